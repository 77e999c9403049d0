// --sse, --sse-key-id and --storageClass on the wire: a recording proxy in front of s3rver shows the
// headers of every request a real mount sends, on both object paths (lean and SDK).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { Engine } from '../../src/engine/engine.js';
import type { OptionValues } from '../../src/config/options.js';
import { s3Plugin } from '../../plugins/s3/index.js';
import { putHeaders } from '../../plugins/s3/put-headers.js';
import { startS3rver, type S3rverServer } from '../helpers/s3rver-server.js';
import { s3rverClient } from '../helpers/s3rver-client.js';
import { startRecordingProxy, type RecordedRequest } from '../helpers/recording-proxy.js';
import { testConfig } from '../helpers/test-config.js';

const TIMEOUT = { timeout: 60_000 };
const PUT_HEADERS = ['x-amz-server-side-encryption', 'x-amz-server-side-encryption-aws-kms-key-id', 'x-amz-storage-class'];

let s3rver: S3rverServer;
let buckets = 0;
before(async () => { s3rver = await startS3rver(); });
after(async () => { await s3rver?.stop(); });

/** Mount through a recording proxy, write one block, unmount: every request the mount sent. */
async function mountAndWrite(options: Partial<OptionValues>, objectPath: 'lean' | 'sdk'): Promise<{ bucket: string; requests: RecordedRequest[] }> {
  const bucket = `put-headers-${++buckets}`;
  await s3rver.createBucket(bucket);
  const proxy = await startRecordingProxy({ target: s3rver.endpoint });
  try {
    const config = testConfig({
      store: 's3', bucket, baseURL: proxy.endpoint, accessId: s3rver.accessId, accessKey: s3rver.accessKey,
      size: 16 * 4096, blockSize: 4096, initialRetryPause: 10, maxRetryPause: 100, ...options,
    });
    const engine = Engine.create(config, [s3Plugin({ conditionalPut: false, objectPath })]);
    const device = await engine.mount();
    try {
      await device.write(3 * 4096, Buffer.alloc(4096, 7));
      await device.flush();
      assert.ok((await device.read(3 * 4096, 4096)).equals(Buffer.alloc(4096, 7)));
    } finally {
      await engine.shutdown();
    }
    return { bucket, requests: [...proxy.requests] };
  } finally {
    await proxy.close();
  }
}

function headersOf(request: RecordedRequest): Record<string, unknown> {
  return Object.fromEntries(PUT_HEADERS.filter((name) => request.headers[name] !== undefined).map((name) => [name, request.headers[name]]));
}

for (const objectPath of ['lean', 'sdk'] as const) {
  test(`--sse=aws:kms --sse-key-id --storageClass: every PUT (block and mounted flag) carries them, nothing else does (${objectPath} path)`, TIMEOUT, async () => {
    const { bucket, requests } = await mountAndWrite({ sse: 'aws:kms', sseKeyId: 'arn:aws:kms:us-east-1:111122223333:key/test-key', storageClass: 'STANDARD_IA' }, objectPath);
    const puts = requests.filter((request) => request.method === 'PUT');
    // (The SDK path adds `?x-id=PutObject`.)
    assert.deepEqual(puts.map((request) => request.url.split('?')[0]).sort(), [`/${bucket}/00000003`, `/${bucket}/s3backer-mounted`],
      'the block and the mounted flag were PUT');
    for (const put of puts) {
      assert.deepEqual(headersOf(put), {
        'x-amz-server-side-encryption': 'aws:kms',
        'x-amz-server-side-encryption-aws-kms-key-id': 'arn:aws:kms:us-east-1:111122223333:key/test-key',
        'x-amz-storage-class': 'STANDARD_IA',
      }, `PUT ${put.url}`);
      // Signed, so a proxy cannot strip or change them unnoticed.
      const signed = /SignedHeaders=([^,]+)/.exec(String(put.headers.authorization))?.[1]?.split(';') ?? [];
      for (const name of PUT_HEADERS) assert.ok(signed.includes(name), `${name} is signed on PUT ${put.url}`);
    }
    const others = requests.filter((request) => request.method !== 'PUT');
    assert.ok(others.some((request) => request.method === 'GET') && others.some((request) => request.method === 'DELETE'), 'GETs and the flag DELETE were seen');
    for (const other of others) assert.deepEqual(headersOf(other), {}, `${other.method} ${other.url} carries none of them`);

    // The storage class reached the stored object (s3rver keeps it; it ignores SSE).
    const client = s3rverClient(s3rver);
    try {
      const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: '00000003' }));
      assert.equal(head.StorageClass, 'STANDARD_IA');
    } finally {
      client.destroy();
    }
  });

  test(`--sse=AES256: the SSE header without a key id (${objectPath} path)`, TIMEOUT, async () => {
    const { requests } = await mountAndWrite({ sse: 'AES256' }, objectPath);
    const puts = requests.filter((request) => request.method === 'PUT');
    assert.equal(puts.length, 2);
    for (const put of puts) assert.deepEqual(headersOf(put), { 'x-amz-server-side-encryption': 'AES256' }, `PUT ${put.url}`);
  });
}

test('without --sse or --storageClass no such header is sent', TIMEOUT, async () => {
  const { requests } = await mountAndWrite({}, 'lean');
  for (const request of requests) assert.deepEqual(headersOf(request), {}, `${request.method} ${request.url}`);
});

test('putHeaders: the lean path\'s headers and the SDK input that serializes to them', () => {
  assert.deepEqual(putHeaders(), { wire: {}, sdk: {} });
  assert.deepEqual(putHeaders({ sse: 'aws:kms', sseKeyId: 'k', storageClass: 'GLACIER' }), {
    wire: { 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-aws-kms-key-id': 'k', 'x-amz-storage-class': 'GLACIER' },
    sdk: { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'k', StorageClass: 'GLACIER' },
  });
  // A key id means nothing without aws:kms (the config checks refuse it before this).
  assert.deepEqual(putHeaders({ sse: 'AES256', sseKeyId: 'k' }).wire, { 'x-amz-server-side-encryption': 'AES256' });
});
