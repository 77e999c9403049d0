// --accessEC2IAM=ROLE and --accessEC2IAM-IMDSv2 through the SDK's instance metadata provider: a fake
// metadata service on 127.0.0.1 (AWS_EC2_METADATA_SERVICE_ENDPOINT) hands out keys and a session
// token; a recording proxy in front of s3rver (which checks the access key id) shows what signed
// the requests.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { Engine } from '../../src/engine/engine.js';
import type { OptionValues } from '../../src/config/options.js';
import { isS3BackerError } from '../../src/errors/s3backer-error.js';
import { resolveCredentials, s3Plugin } from '../../plugins/s3/index.js';
import { startS3rver, type S3rverServer } from '../helpers/s3rver-server.js';
import { startRecordingProxy, type RecordedRequest } from '../helpers/recording-proxy.js';
import { startFakeImds, type FakeImds, type ImdsKeys } from '../helpers/fake-imds.js';
import { testConfig } from '../helpers/test-config.js';

const TIMEOUT = { timeout: 60_000 };
const ROLE = 'backup-role';
/** s3rver accepts only its own access key id; the secret and the token are the metadata service's. */
const KEYS: ImdsKeys = { AccessKeyId: 'S3RVER', SecretAccessKey: 'imds-secret-key-0123456789', Token: 'IMDS-SESSION-TOKEN-abcdef' };

let s3rver: S3rverServer;
let home: string;
let buckets = 0;
before(async () => {
  s3rver = await startS3rver();
  // An access file with other keys: with --accessEC2IAM it must not be read (s3b_config.c).
  home = await mkdtemp(join(tmpdir(), 's3b-imds-home-'));
  await writeFile(join(home, '.s3backer_passwd'), 'FROMFILE:file-secret\n');
  // Only the fake service, never a real one, and no profile file of the machine's user.
  process.env.AWS_CONFIG_FILE = join(home, 'no-aws-config');
  process.env.AWS_SHARED_CREDENTIALS_FILE = join(home, 'no-aws-credentials');
  delete process.env.AWS_EC2_METADATA_V1_DISABLED;
  delete process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE;
});
after(async () => {
  await s3rver?.stop();
  await rm(home, { recursive: true, force: true });
});
beforeEach(() => { delete process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT; });

interface Mounted { requests: RecordedRequest[]; lines: string[] }

/** Mount with --accessEC2IAM against `imds`, write and read a block, unmount. */
async function mount(imds: FakeImds, options: Partial<OptionValues>, objectPath: 'lean' | 'sdk' = 'lean'): Promise<Mounted> {
  process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT = imds.endpoint;
  const bucket = `imds-${++buckets}`;
  await s3rver.createBucket(bucket);
  const proxy = await startRecordingProxy({ target: s3rver.endpoint });
  const lines: string[] = [];
  try {
    const config = testConfig({
      store: 's3', bucket, baseURL: proxy.endpoint, size: 16 * 4096, blockSize: 4096, initialRetryPause: 10, maxRetryPause: 100, ...options,
    });
    const engine = Engine.create(config, [s3Plugin({ conditionalPut: false, objectPath, credentialEnvironment: { homeDir: home } })],
      { log: (level, source, message) => lines.push(`${level} [${source}] ${message}`) });
    try {
      const device = await engine.mount();
      await device.write(4096, Buffer.alloc(4096, 3));
      await device.flush();
      assert.ok((await device.read(4096, 4096)).equals(Buffer.alloc(4096, 3)));
    } finally {
      await engine.shutdown();
    }
    return { requests: [...proxy.requests], lines };
  } catch (error) {
    throw Object.assign(error as Error, { requests: [...proxy.requests], lines });
  } finally {
    await proxy.close();
  }
}

function assertSignedWithImdsKeys(requests: readonly RecordedRequest[]): void {
  assert.ok(requests.length > 4, `${requests.length} requests`);
  for (const request of requests) {
    assert.match(String(request.headers.authorization), /^AWS4-HMAC-SHA256 Credential=S3RVER\/\d{8}\/us-east-1\/s3\/aws4_request, SignedHeaders=[^,]*x-amz-security-token/,
      `${request.method} ${request.url} is signed with the role's key and covers its token`);
    assert.equal(request.headers['x-amz-security-token'], KEYS.Token, `${request.method} ${request.url} carries the session token`);
  }
}

for (const objectPath of ['lean', 'sdk'] as const) {
  test(`--accessEC2IAM=ROLE: requests are signed with the role's keys and session token, fetched with an IMDSv2 token (${objectPath} path)`, TIMEOUT, async () => {
    const imds = await startFakeImds({ role: ROLE, keys: KEYS });
    try {
      const { requests, lines } = await mount(imds, { accessEC2IAM: ROLE, debugHttp: true }, objectPath);
      assertSignedWithImdsKeys(requests);
      // The token flow: a token first (with its TTL), then every metadata GET presents it.
      assert.equal(imds.requests[0]!.method, 'PUT');
      assert.equal(imds.requests[0]!.url, '/latest/api/token');
      assert.equal(imds.requests[0]!.headers['x-aws-ec2-metadata-token-ttl-seconds'], '21600');
      const gets = imds.requests.filter((request) => request.method === 'GET');
      assert.ok(gets.some((request) => request.url === `/latest/meta-data/iam/security-credentials/${ROLE}`), 'the role\'s keys were fetched');
      for (const get of gets) assert.ok(get.headers['x-aws-ec2-metadata-token'] !== undefined, `${get.url} presents the token`);
      assert.ok(lines.some((line) => line.includes(`credentials of EC2 IAM role "${ROLE}" from the instance metadata service at ${imds.endpoint} (IMDSv2)`)), lines.join('\n'));
      // --debug-http says a token went along, never which.
      const text = lines.join('\n');
      assert.match(text, /\(signed, with a session token; /);
      for (const secret of [KEYS.Token, KEYS.SecretAccessKey]) assert.ok(!text.includes(secret), `"${secret}" is logged`);
    } finally {
      await imds.close();
    }
  });
}

test('--accessEC2IAM on a metadata service that only speaks IMDSv1: the keys come without a token (as the C tool asks by default)', TIMEOUT, async () => {
  const imds = await startFakeImds({ role: ROLE, keys: KEYS, v2: false });
  try {
    const { requests } = await mount(imds, { accessEC2IAM: ROLE });
    assertSignedWithImdsKeys(requests);
    const gets = imds.requests.filter((request) => request.method === 'GET');
    assert.ok(gets.length >= 2 && gets.every((request) => request.headers['x-aws-ec2-metadata-token'] === undefined));
  } finally {
    await imds.close();
  }
});

test('--accessEC2IAM-IMDSv2 on a service that requires tokens works; on one without IMDSv2 the mount fails before any S3 request, with no IMDSv1 request', TIMEOUT, async () => {
  const required = await startFakeImds({ role: ROLE, keys: KEYS, v1: false });
  try {
    assertSignedWithImdsKeys((await mount(required, { accessEC2IAM: ROLE, accessEC2IAMv2: true })).requests);
  } finally {
    await required.close();
  }
  const v1Only = await startFakeImds({ role: ROLE, keys: KEYS, v2: false });
  try {
    await assert.rejects(mount(v1Only, { accessEC2IAM: ROLE, accessEC2IAMv2: true }), (error: unknown) => {
      assert.ok(isS3BackerError(error, 'S3B_BACKEND_AUTH'), String(error));
      assert.match((error as Error).message, /gave no IMDSv2 token .*--accessEC2IAM-IMDSv2 forbids IMDSv1/);
      assert.deepEqual((error as unknown as { requests: unknown[] }).requests, [], 'nothing reached S3');
      return true;
    });
    assert.deepEqual(v1Only.requests.map((request) => request.method), ['PUT'], 'only the token was asked for');
  } finally {
    await v1Only.close();
  }
});

test('--accessEC2IAM with a role the instance does not have, or on an instance without a role: the mount fails, naming the role', TIMEOUT, async () => {
  const imds = await startFakeImds({ role: ROLE, keys: KEYS });
  try {
    await assert.rejects(mount(imds, { accessEC2IAM: 'other-role' }), (error: unknown) => isS3BackerError(error, 'S3B_BACKEND_AUTH')
      && (error as Error).message.includes(`EC2 IAM role "other-role" not found: this instance's role is "${ROLE}"; give --accessEC2IAM=${ROLE}`)
      && (error as unknown as { requests: unknown[] }).requests.length === 0);
    assert.ok(!imds.requests.some((request) => request.url.endsWith(`/${ROLE}`)), 'no keys were fetched');
  } finally {
    await imds.close();
  }
  const roleless = await startFakeImds({ role: undefined, keys: KEYS });
  try {
    await assert.rejects(mount(roleless, { accessEC2IAM: ROLE }), (error: unknown) => isS3BackerError(error, 'S3B_BACKEND_AUTH')
      && /EC2 IAM role "backup-role" not found: this instance has no IAM role/.test((error as Error).message));
  } finally {
    await roleless.close();
  }
});

test('--accessEC2IAM: no other key source may be given, and the default access file is not read', async () => {
  const resolved = await resolveCredentials({ accessEC2IAM: ROLE }, { env: {}, homeDir: home });
  assert.equal(resolved.kind, 'provider');
  assert.equal(resolved.kind === 'provider' && resolved.source, `EC2 IAM role "${ROLE}" (instance metadata)`);
  assert.equal((await resolveCredentials({ accessEC2IAM: ROLE, accessEC2IAMv2: true, accessId: '' }, { env: {}, homeDir: home })).kind, 'provider');
  for (const [option, flag] of [[{ accessId: 'AKID' }, '--accessId'], [{ accessKey: 'k' }, '--accessKey'], [{ accessKeyEnv: 'K' }, '--accessKeyEnv'], [{ accessFile: join(home, '.s3backer_passwd') }, '--accessFile']] as const) {
    await assert.rejects(resolveCredentials({ accessEC2IAM: ROLE, ...option }, { env: { K: 'x' }, homeDir: home }),
      (error: unknown) => isS3BackerError(error, 'S3B_CONFIG_INVALID') && (error as Error).message.includes(`so ${flag} cannot be given too`));
  }
  await assert.rejects(resolveCredentials({ accessEC2IAMv2: true }, { env: {}, homeDir: home }), (error: unknown) => isS3BackerError(error, 'S3B_CONFIG_INVALID'));
});
