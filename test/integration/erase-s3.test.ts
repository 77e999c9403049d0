import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { ListObjectsCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startS3rver, type S3rverServer } from '../helpers/s3rver-server.js';
import { s3rverClient } from '../helpers/s3rver-client.js';
import { startCountingProxy, type CountingProxy, type CountingProxyOptions } from '../helpers/counting-proxy.js';
import { runS3backer } from '../helpers/s3backer-process.js';

const BUCKET = 'disk';
const PREFIX = 'vol/';
const blockKey = (block: number) => `${PREFIX}${block.toString(16).padStart(8, '0')}`;
/** The wire form of a DeleteObjects request. */
const DELETE_OBJECTS = /^\/disk\/?\?delete/;
/** A single DELETE of a block object. */
const BLOCK_DELETE = /^\/disk\/vol\/[0-9a-f]{8}$/;

function args(endpoint: string, ...extra: string[]): string[] {
  return [`--baseURL=${endpoint}`, '--accessId=S3RVER', '--accessKey=S3RVER', `--prefix=${PREFIX}`, '--size=64m', '--blockSize=4k',
    '--initialRetryPause=10', '--maxRetryPause=200', ...extra, '--erase', BUCKET];
}

/** An object of the volume's prefix that is not a block: erase leaves it. */
const UNRELATED = `${PREFIX}unrelated.txt`;

/**
 * `count` one-byte block objects (erase never reads them), 32 PUTs at a time, and UNRELATED. That
 * one also keeps s3rver's `vol/` directory from emptying: s3rver 3.7.1 removes the directory of
 * the last object deleted, and deletes racing with that removal answer 500 (for good, as the
 * directory is gone), which no S3 does.
 */
async function putBlocks(s3: S3Client, count: number): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: UNRELATED, Body: 'not a block' }));
  let next = 0;
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (next < count) await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: blockKey(next++), Body: Buffer.from([1]) }));
  }));
}

async function keys(s3: S3Client): Promise<string[]> {
  const found: string[] = [];
  let marker: string | undefined;
  for (;;) {
    const page = await s3.send(new ListObjectsCommand({ Bucket: BUCKET, Prefix: PREFIX, ...(marker ? { Marker: marker } : {}) }));
    const names = (page.Contents ?? []).map((object) => object.Key!);
    found.push(...names);
    if (!page.IsTruncated || names.length === 0) return found;
    marker = names[names.length - 1];
  }
}

/** An unsigned DELETE straight to s3rver (it accepts anonymous requests). */
function deleteDirectly(server: S3rverServer, key: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, method: 'DELETE', path: `/${BUCKET}/${key}`, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve());
    });
    req.on('error', reject);
    req.end();
  });
}

interface Bucket {
  server: S3rverServer;
  s3: S3Client;
  /** A counting proxy in front of the server (the endpoint s3backer is given). */
  startProxy(options?: CountingProxyOptions): Promise<CountingProxy>;
}

/** Runs `body` with a fresh s3rver holding BUCKET and a client on it; stops all of it (the proxy too) after. */
async function withBucket(body: (bucket: Bucket) => Promise<void>): Promise<void> {
  const server = await startS3rver({ buckets: [BUCKET] });
  const s3 = s3rverClient(server);
  let proxy: CountingProxy | undefined;
  try {
    await body({ server, s3, startProxy: async (options) => (proxy = await startCountingProxy(server.endpoint, options)) });
  } finally {
    s3.destroy();
    await proxy?.close();
    await server.stop();
  }
}

test('--erase on S3: a set mounted flag refuses; --force warns, then 2500 blocks go in 3 DeleteObjects requests and none is left', { timeout: 180_000 }, (t) => withBucket(async ({ s3, startProxy }) => {
  await putBlocks(s3, 2500);
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}s3backer-mounted`, Body: 'otherhost\n20260102T030405Z\n',
    ContentType: 'text/plain', Metadata: { 's3backer-mount-token': '1234abcd' } }));
  const proxy = await startProxy();

  const refused = await runS3backer(args(proxy.endpoint), { timeoutMs: 60_000 });
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /not erased: .* is marked as mounted by otherhost since 20260102T030405Z \(mount token 0x1234abcd\).*\[S3B_MOUNTED_ELSEWHERE\]/);
  assert.equal(proxy.count('POST') + proxy.count('DELETE'), 0, 'nothing was deleted');

  const started = Date.now();
  const erased = await runS3backer(args(proxy.endpoint, '--force'), { timeoutMs: 120_000 });
  const elapsed = Date.now() - started;
  assert.equal(erased.code, 0, erased.stderr);
  assert.match(erased.stderr, /WARNING: .* is marked as MOUNTED by otherhost since 20260102T030405Z \(mount token 0x1234abcd\); ERASING IT ANYWAY because of --force/);
  assert.match(erased.stderr, /erased 2500 non-zero blocks in [\d.]+ s \(3 bulk delete requests/);
  assert.equal(proxy.count('POST', DELETE_OBJECTS), 3, 'one DeleteObjects request per 1000 keys');
  assert.equal(proxy.count('DELETE', BLOCK_DELETE), 0, 'no block was deleted on its own');
  assert.deepEqual(await keys(s3), [UNRELATED], 'no block and no flag is left; other objects stay');
  t.diagnostic(`erase of 2500 blocks through the proxy: ${elapsed} ms`);
}));

test('--erase on S3 whose DeleteObjects is not implemented (501): the rest goes by single DELETEs, and everything is erased', { timeout: 120_000 }, () => withBucket(async ({ s3, startProxy }) => {
  await putBlocks(s3, 1200);
  const proxy = await startProxy({
    intercept: ({ method, url }) => (method === 'POST' && DELETE_OBJECTS.test(url)
      ? { status: 501, headers: { 'content-type': 'application/xml' }, body: '<Error><Code>NotImplemented</Code><Message>A header you provided implies functionality that is not implemented</Message></Error>' }
      : undefined),
  });
  const erased = await runS3backer(args(proxy.endpoint, '--force'), { timeoutMs: 100_000 });
  assert.equal(erased.code, 0, erased.stderr);
  assert.match(erased.stderr, /a bulk delete request failed \(.*NotImplemented.*\); deleting the remaining blocks one at a time/);
  assert.match(erased.stderr, /erased 1200 non-zero blocks/);
  assert.equal(proxy.count('DELETE', BLOCK_DELETE), 1200);
  assert.deepEqual(await keys(s3), [UNRELATED]);
}));

test('--erase on S3 where some keys cannot be deleted: a non-zero exit naming them, and the flag is kept', { timeout: 120_000 }, () => withBucket(async ({ server, s3, startProxy }) => {
  const locked = new Set([blockKey(5), blockKey(0x1f)]);
  await putBlocks(s3, 40);
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}s3backer-mounted`, Body: 'crashed\n20260102T030405Z\n' }));
  const proxy = await startProxy({
    // As S3 answers for objects a bucket policy protects: the bulk answer lists them as errors, a single DELETE gets 403.
    intercept: async ({ method, url, body }) => {
      if (method === 'POST' && DELETE_OBJECTS.test(url)) {
        const asked = [...body.toString('utf8').matchAll(/<Key>([^<]*)<\/Key>/g)].map((match) => match[1]!);
        await Promise.all(asked.filter((key) => !locked.has(key)).map((key) => deleteDirectly(server, key)));
        const errors = asked.filter((key) => locked.has(key)).map((key) => `<Error><Key>${key}</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`);
        return { status: 200, headers: { 'content-type': 'application/xml' }, body: `<?xml version="1.0" encoding="UTF-8"?><DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${errors.join('')}</DeleteResult>` };
      }
      const key = decodeURIComponent(url.replace(/^\/disk\//, ''));
      if (method === 'DELETE' && locked.has(key)) {
        return { status: 403, headers: { 'content-type': 'application/xml' }, body: '<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>' };
      }
      return undefined;
    },
  });
  const result = await runS3backer(args(proxy.endpoint, '--force'), { timeoutMs: 100_000 });
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /2 blocks could not be deleted: vol\/00000005 \(.*AccessDenied.*\); vol\/0000001f \(.*AccessDenied.*\)/);
  assert.match(result.stderr, /not fully erased: 2 blocks of .* remain \(vol\/00000005, vol\/0000001f; 2 deletes failed\); the mounted flag and key check are kept.*\[S3B_ERASE_INCOMPLETE\]/);
  assert.equal(proxy.count('DELETE', /s3backer-mounted$/), 0, 'the flag is not touched');
  assert.deepEqual(await keys(s3), [...locked, `${PREFIX}s3backer-mounted`, UNRELATED].sort());
}));
