// --cacert and --insecure against an https endpoint with a self-signed certificate: an https proxy
// on 127.0.0.1 (certificate for "localhost") in front of s3rver, mounted as a user would.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { Engine } from '../../src/engine/engine.js';
import type { OptionValues } from '../../src/config/options.js';
import { isS3BackerError } from '../../src/errors/s3backer-error.js';
import { s3Plugin } from '../../plugins/s3/index.js';
import { startS3rver, type S3rverServer } from '../helpers/s3rver-server.js';
import { startRecordingProxy, type RecordingProxy } from '../helpers/recording-proxy.js';
import { makeTestCertificate, type TestCertificate } from '../helpers/test-certificate.js';
import { testConfig } from '../helpers/test-config.js';

const TIMEOUT = { timeout: 60_000 };

let s3rver: S3rverServer;
let certificate: TestCertificate | string;
let proxy: RecordingProxy | undefined;
let buckets = 0;
before(async () => {
  s3rver = await startS3rver();
  certificate = await makeTestCertificate();
  if (typeof certificate !== 'string') proxy = await startRecordingProxy({ target: s3rver.endpoint, tls: { key: certificate.key, cert: certificate.cert } });
});
after(async () => {
  await proxy?.close();
  if (typeof certificate === 'object') await certificate.remove();
  await s3rver?.stop();
});

/** The certificate and the https proxy, or a skip when openssl is missing. */
function tls(t: TestContext): { cert: TestCertificate; https: RecordingProxy } | undefined {
  if (typeof certificate === 'string' || proxy === undefined) {
    t.skip(typeof certificate === 'string' ? certificate : 'no https proxy');
    return undefined;
  }
  return { cert: certificate, https: proxy };
}

async function config(https: RecordingProxy, options: Partial<OptionValues>): Promise<ReturnType<typeof testConfig>> {
  const bucket = `tls-${++buckets}`;
  await s3rver.createBucket(bucket);
  return testConfig({
    store: 's3', bucket, baseURL: https.endpoint, accessId: s3rver.accessId, accessKey: s3rver.accessKey,
    size: 16 * 4096, blockSize: 4096, initialRetryPause: 10, maxRetryPause: 2000, ...options,
  });
}

/** Mount, write and read back one block, unmount. */
async function roundTrip(engine: Engine): Promise<void> {
  const device = await engine.mount();
  try {
    await device.write(4096, Buffer.alloc(4096, 5));
    await device.flush();
    assert.ok((await device.read(4096, 4096)).equals(Buffer.alloc(4096, 5)));
  } finally {
    await engine.shutdown();
  }
}

test('https with a self-signed certificate and no --cacert: the mount fails at once with a TLS error that names --cacert and --insecure', TIMEOUT, async (t) => {
  const setup = tls(t);
  if (!setup) return;
  const before = setup.https.requests.length;
  const started = Date.now();
  await assert.rejects(Engine.create(await config(setup.https, {}), [s3Plugin({ conditionalPut: false })]).mount(), (error: unknown) => {
    assert.ok(isS3BackerError(error), String(error));
    const message = (error as Error).message;
    assert.match(message, /self-signed certificate/);
    assert.match(message, /TLS certificate check failed/);
    assert.match(message, /--cacert=FILE/);
    assert.match(message, /--insecure/);
    return true;
  });
  // Not retried for --maxRetryPause (2 s here): a certificate does not fix itself.
  assert.ok(Date.now() - started < 1500, `failed in ${Date.now() - started} ms`);
  assert.equal(setup.https.requests.length, before, 'no request got through the handshake');
});

test('--cacert with another authority: refused, and the message names the file that was trusted', TIMEOUT, async (t) => {
  const setup = tls(t);
  if (!setup) return;
  await assert.rejects(Engine.create(await config(setup.https, { cacert: setup.cert.otherCertFile }), [s3Plugin({ conditionalPut: false })]).mount(),
    (error: unknown) => isS3BackerError(error) && (error as Error).message.includes(`--cacert=${setup.cert.otherCertFile}`));
});

for (const objectPath of ['lean', 'sdk'] as const) {
  test(`--cacert=FILE with the server's certificate: the mount works over https (${objectPath} path)`, TIMEOUT, async (t) => {
    const setup = tls(t);
    if (!setup) return;
    const before = setup.https.requests.length;
    await roundTrip(Engine.create(await config(setup.https, { cacert: setup.cert.certFile }), [s3Plugin({ conditionalPut: false, objectPath })]));
    const methods = setup.https.requests.slice(before).map((request) => request.method);
    // HEAD bucket (S3Client) and block I/O (the object path) both went over the trusted connection.
    for (const method of ['HEAD', 'PUT', 'GET', 'DELETE']) assert.ok(methods.includes(method), `${method} in ${methods.join(' ')}`);
  });

  test(`--insecure: no certificate check, the mount works (${objectPath} path)`, TIMEOUT, async (t) => {
    const setup = tls(t);
    if (!setup) return;
    await roundTrip(Engine.create(await config(setup.https, { insecure: true }), [s3Plugin({ conditionalPut: false, objectPath })]));
  });
}

test('--cacert: a missing file, or one without a certificate, is S3B_CONFIG_INVALID before any request', TIMEOUT, async (t) => {
  const setup = tls(t);
  if (!setup) return;
  const before = setup.https.requests.length;
  const notPem = join(setup.cert.certFile, '..', 'not-a-certificate.txt');
  await writeFile(notPem, 'hello\n');
  for (const [cacert, pattern] of [[join(setup.cert.certFile, '..', 'missing.pem'), /cannot read the certificate file .*ENOENT/], [notPem, /holds no PEM certificate/]] as const) {
    await assert.rejects(Engine.create(await config(setup.https, { cacert }), [s3Plugin()]).mount(),
      (error: unknown) => isS3BackerError(error, 'S3B_CONFIG_INVALID') && pattern.test((error as Error).message));
  }
  assert.equal(setup.https.requests.length, before);
});
