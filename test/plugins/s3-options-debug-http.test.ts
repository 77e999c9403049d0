// --debug-http: a line per request and per answer, as a mount logs them, checked against what a
// recording proxy in front of s3rver received; never a secret.
import assert from 'node:assert/strict';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { Engine } from '../../src/engine/engine.js';
import type { OptionValues } from '../../src/config/options.js';
import { s3Plugin } from '../../plugins/s3/index.js';
import { traceHttp } from '../../plugins/s3/debug-http.js';
import { startS3rver, type S3rverServer } from '../helpers/s3rver-server.js';
import { startRecordingProxy, type RecordedRequest } from '../helpers/recording-proxy.js';
import { testConfig } from '../helpers/test-config.js';

const TIMEOUT = { timeout: 60_000 };
/** s3rver checks only the access key id; the secret is ours to pick, and must never be logged. */
const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYSECRETKEY';

let s3rver: S3rverServer;
let buckets = 0;
before(async () => { s3rver = await startS3rver(); });
after(async () => { await s3rver?.stop(); });

async function mount(options: Partial<OptionValues>, objectPath: 'lean' | 'sdk'): Promise<{ lines: string[]; requests: RecordedRequest[]; bucket: string }> {
  const bucket = `debug-http-${++buckets}`;
  await s3rver.createBucket(bucket);
  const proxy = await startRecordingProxy({ target: s3rver.endpoint });
  const lines: string[] = [];
  try {
    const config = testConfig({
      store: 's3', bucket, baseURL: proxy.endpoint, accessId: s3rver.accessId, accessKey: SECRET,
      size: 16 * 4096, blockSize: 4096, initialRetryPause: 10, maxRetryPause: 100, storageClass: 'STANDARD_IA', ...options,
    });
    const engine = Engine.create(config, [s3Plugin({ conditionalPut: false, objectPath })], { log: (level, source, message) => lines.push(`${level} [${source}] ${message}`) });
    const device = await engine.mount();
    try {
      await device.write(2 * 4096, Buffer.alloc(4096, 1));
      await device.flush();
      await device.read(2 * 4096, 4096);
    } finally {
      await engine.shutdown();
    }
    return { lines, requests: [...proxy.requests], bucket };
  } finally {
    await proxy.close();
  }
}

function assertNoSecret(lines: readonly string[]): void {
  const text = lines.join('\n');
  for (const secret of [SECRET, 'Signature=', 'AWS4-HMAC-SHA256', 'Credential=', 'authorization']) {
    assert.ok(!text.toLowerCase().includes(secret.toLowerCase()), `the log holds "${secret}":\n${text}`);
  }
}

for (const objectPath of ['lean', 'sdk'] as const) {
  test(`--debug-http: one line per request and per answer, with method, URL, status, headers and time; no secret (${objectPath} path)`, TIMEOUT, async () => {
    const { lines, requests, bucket } = await mount({ debugHttp: true }, objectPath);
    const sent = lines.filter((line) => line.startsWith('info [s3] > '));
    const answered = lines.filter((line) => line.startsWith('info [s3] < '));
    assert.equal(sent.length, requests.length, `a line for each of the ${requests.length} requests:\n${lines.join('\n')}`);
    assert.equal(answered.length, requests.length, 'and one for each answer');
    for (const [i, received] of requests.entries()) {
      const url = `http://127.0.0.1:`;
      assert.ok(sent[i]!.includes(`> ${received.method} ${url}`) && sent[i]!.includes(received.url), `${sent[i]} is ${received.method} ${received.url}`);
      assert.match(sent[i]!, /\(signed; /);
    }
    const blockPut = sent.find((line) => line.includes(`PUT http://`) && line.includes(`/${bucket}/00000002`));
    assert.ok(blockPut, 'the block PUT is logged');
    assert.match(blockPut, /content-length: 4096/);
    assert.match(blockPut, /content-type: application\/x-s3backer-block/);
    assert.match(blockPut, /x-amz-storage-class: STANDARD_IA/);
    const putAnswer = answered.find((line) => line.includes(`for PUT `) && line.includes(`/${bucket}/00000002`));
    assert.match(putAnswer!, /< 200 OK for PUT .* after \d+\.\d ms \(.*etag: "[0-9a-f]{32}"/);
    assert.ok(answered.some((line) => /< 404 Not Found for (HEAD|GET) /.test(line)), 'a 404 is logged like any answer');
    assertNoSecret(lines);
  });
}

test('without --debug-http no request is logged', TIMEOUT, async () => {
  const { lines } = await mount({}, 'lean');
  assert.deepEqual(lines.filter((line) => /\[s3\] [<>!] /.test(line)), []);
});

test('--debug-http: a request that gets no answer is logged with its error', TIMEOUT, async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const { port } = closed.address() as AddressInfo;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const lines: string[] = [];
  const config = testConfig({
    store: 's3', bucket: 'b', baseURL: `http://127.0.0.1:${port}/`, accessId: 'id', accessKey: SECRET,
    size: 16 * 4096, blockSize: 4096, initialRetryPause: 10, maxRetryPause: 20, debugHttp: true,
  });
  await assert.rejects(Engine.create(config, [s3Plugin()], { log: (level, source, message) => lines.push(`${level} [${source}] ${message}`) }).mount());
  assert.ok(lines.some((line) => new RegExp(`! HEAD http://127\\.0\\.0\\.1:${port}/b/ failed after \\d+\\.\\d ms: ECONNREFUSED`).test(line)), lines.join('\n'));
  assertNoSecret(lines);
});

test('traceHttp: the signing values of a presigned URL are replaced; other agents are not traced', TIMEOUT, async () => {
  const server = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const traced = new Agent({ keepAlive: false });
  const other = new Agent({ keepAlive: false });
  const lines: string[] = [];
  const stop = traceHttp([traced], (line) => lines.push(line));
  const get = (agent: Agent, path: string): Promise<void> => new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent, headers: { 'x-amz-security-token': 'SESSION-TOKEN-VALUE' } }, (res) => { res.resume(); res.on('end', resolve); });
    req.on('error', reject);
    req.end();
  });
  try {
    await get(traced, '/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20250101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=abcdef0123&X-Amz-Security-Token=tok&prefix=p');
    await get(other, '/untraced');
  } finally {
    stop();
    server.close();
  }
  assert.equal(lines.length, 2, lines.join('\n'));
  assert.equal(lines[0], `> GET http://127.0.0.1:${port}/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED&X-Amz-Security-Token=REDACTED&prefix=p (unsigned)`);
  assert.match(lines[1]!, new RegExp(`^< 200 OK for GET http://127\\.0\\.0\\.1:${port}/b/k\\?.*X-Amz-Signature=REDACTED.* after \\d+\\.\\d ms \\(content-length: 2\\)$`));
  assert.ok(!lines.join('\n').includes('SESSION-TOKEN-VALUE') && !lines.join('\n').includes('abcdef0123'));
});
