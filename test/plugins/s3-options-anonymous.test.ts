// --readOnly with no credentials anywhere: the mount reads a public bucket with unsigned requests
// instead of failing in the AWS SDK's credential chain. The process environment is emptied of AWS
// settings, and the chain's instance-metadata step goes to a fake service on 127.0.0.1 that has no
// role, so the chain really finds nothing.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { Engine } from '../../src/engine/engine.js';
import type { OptionValues } from '../../src/config/options.js';
import { isS3BackerError } from '../../src/errors/s3backer-error.js';
import { s3Plugin } from '../../plugins/s3/index.js';
import { readOnlyCredentials } from '../../plugins/s3/read-only-credentials.js';
import { createLogger } from '../../src/engine/logger.js';
import { startS3rver, type S3rverServer } from '../helpers/s3rver-server.js';
import { s3rverClient } from '../helpers/s3rver-client.js';
import { startRecordingProxy, type RecordedRequest } from '../helpers/recording-proxy.js';
import { startFakeImds, type FakeImds } from '../helpers/fake-imds.js';
import { testConfig } from '../helpers/test-config.js';

const TIMEOUT = { timeout: 60_000 };
const BLOCK = Buffer.alloc(4096, 0x5a);

let s3rver: S3rverServer;
let imds: FakeImds;
let home: string;
let bucket: string;
before(async () => {
  s3rver = await startS3rver();
  home = await mkdtemp(join(tmpdir(), 's3b-anon-home-'));
  for (const name of Object.keys(process.env)) if (name.startsWith('AWS_')) delete process.env[name];
  process.env.HOME = home;
  process.env.AWS_CONFIG_FILE = join(home, 'no-aws-config');
  process.env.AWS_SHARED_CREDENTIALS_FILE = join(home, 'no-aws-credentials');
  imds = await startFakeImds({ role: undefined, keys: { AccessKeyId: 'x', SecretAccessKey: 'x', Token: 'x' } });
  process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT = imds.endpoint;
  // The "public bucket": a volume written by someone with keys.
  bucket = 'public-volume';
  await s3rver.createBucket(bucket);
  const client = s3rverClient(s3rver);
  try {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: '00000001', Body: BLOCK, ContentType: 'application/x-s3backer-block' }));
  } finally {
    client.destroy();
  }
});
after(async () => {
  await imds?.close();
  await s3rver?.stop();
  await rm(home, { recursive: true, force: true });
});

async function mount(options: Partial<OptionValues>): Promise<{ requests: RecordedRequest[]; lines: string[]; read: Buffer }> {
  const proxy = await startRecordingProxy({ target: s3rver.endpoint });
  const lines: string[] = [];
  try {
    const config = testConfig({ store: 's3', bucket, baseURL: proxy.endpoint, size: 16 * 4096, blockSize: 4096, initialRetryPause: 10, maxRetryPause: 100, ...options });
    const engine = Engine.create(config, [s3Plugin({ conditionalPut: false, credentialEnvironment: { homeDir: home } })],
      { log: (level, source, message) => lines.push(`${level} [${source}] ${message}`) });
    try {
      const device = await engine.mount();
      return { requests: [...proxy.requests], lines, read: await device.read(4096, 4096) };
    } finally {
      await engine.shutdown();
    }
  } catch (error) {
    throw Object.assign(error as Error, { requests: [...proxy.requests], lines });
  } finally {
    await proxy.close();
  }
}

test('--readOnly without any credentials: unsigned requests read the public volume, and the log says why', TIMEOUT, async () => {
  const imdsBefore = imds.requests.length;
  const { requests, lines, read } = await mount({ readOnly: true });
  assert.ok(read.equals(BLOCK), 'the block written with keys is read without any');
  assert.ok(requests.length >= 3, `${requests.length} requests`);
  for (const request of requests) {
    assert.equal(request.method === 'GET' || request.method === 'HEAD', true, `${request.method} ${request.url}: read-only`);
    for (const header of ['authorization', 'x-amz-security-token', 'x-amz-content-sha256']) {
      assert.equal(request.headers[header], undefined, `${request.method} ${request.url} has no ${header}`);
    }
  }
  assert.ok(imds.requests.length > imdsBefore, 'the SDK\'s chain did look, down to the instance metadata');
  const notice = lines.filter((line) => line.includes('requests are sent anonymously'));
  assert.equal(notice.length, 1, lines.join('\n'));
  assert.match(notice[0]!, /^info \[s3\] no credentials found \(no --accessId, no access file, and the AWS SDK's default chain found none: .+\); this is a --readOnly mount/);
});

test('without --readOnly and without credentials the mount still fails with the chain\'s error (it could not set the mounted flag)', TIMEOUT, async () => {
  await assert.rejects(mount({}), (error: unknown) => {
    assert.ok(isS3BackerError(error, 'S3B_BACKEND_AUTH'), String(error));
    assert.match((error as Error).message, /no credentials found/);
    assert.deepEqual((error as unknown as { requests: unknown[] }).requests, [], 'nothing was sent');
    assert.ok(!(error as unknown as { lines: string[] }).lines.some((line) => line.includes('anonymously')));
    return true;
  });
});

test('--readOnly with credentials in the environment: the chain\'s keys sign the requests, nothing anonymous', TIMEOUT, async () => {
  process.env.AWS_ACCESS_KEY_ID = s3rver.accessId;
  process.env.AWS_SECRET_ACCESS_KEY = 'env-secret';
  try {
    const { requests, lines, read } = await mount({ readOnly: true });
    assert.ok(read.equals(BLOCK));
    for (const request of requests) assert.match(String(request.headers.authorization), /^AWS4-HMAC-SHA256 Credential=S3RVER\//);
    assert.ok(!lines.some((line) => line.includes('anonymously')));
  } finally {
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
  }
});

test('readOnlyCredentials: only a read-only mount on the default chain is ever made anonymous', async () => {
  const lines: string[] = [];
  const log = createLogger((level, _source, message) => lines.push(`${level} ${message}`), 's3');
  const nothing = async (): Promise<never> => { throw Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }); };
  const found = async () => ({ accessKeyId: 'a', secretAccessKey: 'b' });
  assert.deepEqual(await readOnlyCredentials({ kind: 'default-chain' }, true, log, nothing), { kind: 'anonymous', reason: 'no credentials found and --readOnly' });
  assert.deepEqual(await readOnlyCredentials({ kind: 'default-chain' }, true, log, found), { kind: 'default-chain' });
  assert.deepEqual(await readOnlyCredentials({ kind: 'default-chain' }, false, log, nothing), { kind: 'default-chain' });
  const fixed = { kind: 'static', accessKeyId: 'a', secretAccessKey: 'b', source: 'test' } as const;
  assert.equal(await readOnlyCredentials(fixed, true, log, nothing), fixed);
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /Could not load credentials from any providers/);
});
