// The s3 store against a real S3 implementation, Ceph radosgw: the object-store contract with the
// conditional requests s3rver ignores (If-None-Match: * on PUT, If-Match on GET), the disk
// contract, listing past 1000 keys, bulk delete, and signature checks, on both object paths
// (lean and SDK). One radosgw for the file, one bucket per store.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { S3Store, type S3StoreOptions } from '../../plugins/s3/index.js';
import { RetryStats, RetryStore } from '../../plugins/retry/index.js';
import { blockCachePlugin } from '../../plugins/block-cache/index.js';
import { PreconditionFailedError } from '../../src/engine/object-store.js';
import { isS3BackerError } from '../../src/errors/s3backer-error.js';
import { runBackendConformance } from '../conformance/index.js';
import { runBlockDeviceConformance } from '../conformance/block-device-suite.js';
import { radosgwPerFile } from '../helpers/rgw-per-file.js';
import { startRecordingProxy } from '../helpers/recording-proxy.js';
import { testConfig } from '../helpers/test-config.js';

type ObjectPath = 'lean' | 'sdk';
const PATHS: readonly ObjectPath[] = ['lean', 'sdk'];

const rgw = radosgwPerFile('store');
const skip = rgw.skip;
const freshBucket = () => rgw.freshBucket();

/** Defaults: what a mount has (conditional PUT and GET declared, as on AWS). */
function rgwStore(bucket: string, objectPath: ObjectPath, overrides: Partial<S3StoreOptions> = {}): S3Store {
  return new S3Store({
    endpoint: rgw.server().endpoint, bucket, region: rgw.server().region, forcePathStyle: true,
    credentials: { kind: 'static', accessKeyId: rgw.server().accessId, secretAccessKey: rgw.server().accessKey, source: 'test' },
    timeoutMs: 10_000, acl: 'private', objectPath, ...overrides,
  });
}

/** The store inside the retry layer, as a mount has it (C schedule, pauses recorded, not slept). */
function retrying(store: S3Store): RetryStore & { retries: RetryStats; sleeps: number[] } {
  const retries = new RetryStats('http');
  const sleeps: number[] = [];
  return Object.assign(new RetryStore(store, {
    policy: { initialPauseMs: 10, maxTotalPauseMs: 100 }, attemptTimeoutMs: 10_000, stats: retries, random: () => 1,
    sleep: async (ms: number) => { sleeps.push(ms); },
  }), { retries, sleeps });
}

if (skip !== undefined) {
  test('s3 on radosgw: object-store and disk contracts', { skip }, () => {});
} else {
  // Every case runs, none skipped by the manifest: radosgw honours both conditional requests.
  for (const objectPath of PATHS) {
    runBackendConformance({ test, name: `s3 (radosgw, objectPath: ${objectPath})`, factory: async () => rgwStore(await freshBucket(), objectPath) });
  }
  const volume = async () => {
    const bucket = await freshBucket();
    return () => rgwStore(bucket, 'lean');
  };
  runBlockDeviceConformance({ test, name: 's3 (radosgw)', config: (o) => testConfig(o), createVolume: volume });
  runBlockDeviceConformance({
    test, name: 's3 (radosgw) + block cache', config: (o) => testConfig(o), createVolume: volume,
    plugins: () => [blockCachePlugin({ size: 8, threads: 4, writeDelay: 5 })],
  });
}

test('s3 on radosgw: the ETag goes back quoted in If-Match (as the C tool sends it, and as AWS wants), also when given bare; a 412 is PreconditionFailedError at once, counted in http_stale', { skip, timeout: 30_000 }, async () => {
  const proxy = await startRecordingProxy({ target: rgw.server().endpoint });
  try {
    for (const objectPath of PATHS) {
      const s3 = rgwStore(await freshBucket(), objectPath, { endpoint: proxy.endpoint });
      const store = retrying(s3);
      try {
        const { etag } = await store.put('vol/00000001', Buffer.from('ours'));
        assert.match(etag, /^"[0-9a-f]{32}"$/, 'radosgw sends a quoted ETag');
        const bare = etag.slice(1, -1);
        assert.equal((await store.get('vol/00000001', { ifMatch: etag }))?.body.toString(), 'ours');
        assert.equal((await store.get('vol/00000001', { ifMatch: bare }))?.body.toString(), 'ours', 'a bare ETag is quoted, not refused');
        const gets = proxy.requests.filter((r) => r.method === 'GET' && r.url.includes('vol/00000001')).slice(-2);
        assert.deepEqual(gets.map((r) => r.headers['if-match']), [etag, etag], `${objectPath}: If-Match on the wire`);

        await store.put('vol/00000001', Buffer.from('theirs'));
        const before = proxy.requests.length;
        await assert.rejects(store.get('vol/00000001', { ifMatch: etag }), (error: unknown) =>
          error instanceof PreconditionFailedError && error.key === 'vol/00000001' && error.message.includes(etag) && /412/.test(error.message));
        assert.equal(proxy.requests.length - before, 1, `${objectPath}: one request, not retried`);
        assert.deepEqual(store.sleeps, []);
        const stats = Object.fromEntries([...s3.stats.lines(), ...store.retries.lines()]);
        assert.equal(stats.http_stale, '1');
        assert.equal(stats.http_num_retries, '0');
      } finally {
        await store.close();
      }
    }
  } finally {
    await proxy.close();
  }
});

test('s3 on radosgw: deleteMany of 1,100 keys is two DeleteObjects requests, and every key is gone', { skip, timeout: 60_000 }, async () => {
  const proxy = await startRecordingProxy({ target: rgw.server().endpoint });
  const store = rgwStore(await freshBucket(), 'lean', { endpoint: proxy.endpoint });
  try {
    const keys = Array.from({ length: 1100 }, (_, i) => `vol/${i.toString(16).padStart(8, '0')}`);
    for (let i = 0; i < keys.length; i += 64) await Promise.all(keys.slice(i, i + 64).map((key) => store.put(key, Buffer.from(key))));
    const result = await store.deleteMany([...keys, 'vol/never-written']);
    assert.deepEqual(result.failed, []);
    assert.equal(proxy.requests.filter((r) => r.method === 'POST' && /\?delete/.test(r.url)).length, 2);
    const left: string[] = [];
    for await (const key of store.list()) left.push(key);
    assert.deepEqual(left, []);
  } finally {
    await store.close();
    await proxy.close();
  }
});

test('s3 on radosgw: a wrong secret key (bad signature) and an unknown access key are S3B_BACKEND_AUTH at once, no retries', { skip, timeout: 30_000 }, async () => {
  const bucket = await freshBucket();
  for (const objectPath of PATHS) {
    for (const [accessKeyId, secretAccessKey, code] of [[rgw.server().accessId, 'not-the-secret', 'SignatureDoesNotMatch'], ['NOSUCHKEY0000000000X', rgw.server().accessKey, 'InvalidAccessKeyId']] as const) {
      const s3 = rgwStore(bucket, objectPath, { credentials: { kind: 'static', accessKeyId, secretAccessKey, source: 'test' } });
      const store = retrying(s3);
      try {
        await assert.rejects(store.open(), (error: unknown) => isS3BackerError(error, 'S3B_BACKEND_AUTH') && !error.retryable && error.message.includes(accessKeyId));
        await assert.rejects(store.get('vol/00000000'), (error: unknown) =>
          isS3BackerError(error, 'S3B_BACKEND_AUTH') && error.message.includes(code), `${objectPath}: a GET names radosgw's ${code}`);
        const stats = Object.fromEntries([...s3.stats.lines(), ...store.retries.lines()]);
        assert.equal(stats.http_forbidden, '2', `${objectPath} ${code}: one HEAD, one GET`);
        assert.equal(stats.http_num_retries, '0');
        assert.deepEqual(store.sleeps, []);
      } finally {
        await store.close();
      }
    }
  }
});
