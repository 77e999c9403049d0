// The mounted flag on a store without conditional PUT (src/engine/mount-lease.ts): after writing
// it, the mount waits, reads it back, and gives up when it holds another mount's token.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { MemoryStore } from '../../plugins/memory/memory-store.js';
import { s3Plugin } from '../../plugins/s3/index.js';
import { retryPlugin } from '../../plugins/retry/index.js';
import { MountLease, MOUNT_TOKEN_META } from '../../src/engine/mount-lease.js';
import type { ObjectStore, PutOptions } from '../../src/engine/object-store.js';
import { Engine } from '../../src/engine/engine.js';
import { createLogger } from '../../src/engine/logger.js';
import { isS3BackerError } from '../../src/errors/s3backer-error.js';
import { startS3rver, type S3rverServer } from '../helpers/s3rver-server.js';
import { testConfig } from '../helpers/test-config.js';

const KEY = 'vol/s3backer-mounted';
const log = createLogger(() => {}, 'test');
const options = (readBackDelayMs = 200) => ({ key: KEY, description: 'test://vol/', force: false, readOnly: false, log, readBackDelayMs });

/** A memory store that declares no conditional PUT; `afterPut` runs after each PUT of the flag (another mount racing). */
function unconditional(afterPut: (store: MemoryStore) => void = () => {}): ObjectStore & { puts: number } {
  const inner = new MemoryStore();
  return Object.assign(Object.create(inner) as ObjectStore, {
    supports: { conditionalPut: false, metadata: true },
    puts: 0,
    async put(this: { puts: number }, key: string, body: Buffer, putOptions?: PutOptions) {
      assert.equal(putOptions?.ifNoneMatch, undefined, 'no If-None-Match on a store that cannot honour it');
      this.puts++;
      const answer = await inner.put(key, body, putOptions);
      if (key === KEY) afterPut(inner);
      return answer;
    },
  });
}

test('read-back: a flag overwritten by another mount just after ours gives this mount up, with a clear message', { timeout: 10_000 }, async () => {
  const store = unconditional((inner) => {
    // The other mount found no flag either, and its PUT lands 50 ms after ours.
    setTimeout(() => void inner.put(KEY, Buffer.from('otherhost\n20260101T000000Z\n'), { metadata: { [MOUNT_TOKEN_META]: '12345678' } }), 50);
  });
  const started = performance.now();
  await assert.rejects(MountLease.acquire(store, options()), (error) =>
    isS3BackerError(error, 'S3B_MOUNTED_ELSEWHERE')
    && /^test:\/\/vol\/: another s3backer on otherhost set the mounted flag at the same moment \(mount token 0x12345678, ours was 0x[0-9a-f]{8}\); this store cannot create the flag atomically \(no conditional PUT\), so this mount gives up/.test((error as Error).message));
  assert.ok(performance.now() - started >= 195, 'it waited before reading back');
  // The other mount's flag is left alone.
  assert.equal((await store.head(KEY))?.metadata[MOUNT_TOKEN_META], '12345678');
});

test('read-back: an undisturbed flag is ours after the wait; a store with conditional PUT needs no wait', { timeout: 10_000 }, async () => {
  const store = unconditional();
  const started = performance.now();
  const lease = await MountLease.acquire(store, options());
  assert.ok(performance.now() - started >= 195);
  assert.equal((await store.head(KEY))?.metadata[MOUNT_TOKEN_META], lease.token!.toString(16).padStart(8, '0'));
  await lease.release();
  assert.equal(await store.head(KEY), null);

  const atomic = new MemoryStore();
  const quick = performance.now();
  const leased = await MountLease.acquire(atomic, options(5_000));
  assert.ok(performance.now() - quick < 1000, 'If-None-Match made the flag atomic: no read-back');
  await leased.release();
});

let server: S3rverServer;
before(async () => {
  server = await startS3rver();
});
after(async () => {
  await server?.stop();
});

test('two mounts started at the same moment on s3rver (no conditional PUT), 20 rounds: never both mounted', { timeout: 120_000 }, async (t) => {
  let decidedByReadBack = 0;
  for (let round = 1; round <= 20; round++) {
    const bucket = `race-${round}`;
    await server.createBucket(bucket);
    const config = testConfig({
      store: 's3', bucket, baseURL: server.endpoint, accessId: server.accessId, accessKey: server.accessKey,
      size: 16 * 4096, blockSize: 4096, prefix: 'vol/', initialRetryPause: 10, maxRetryPause: 1000,
    });
    // s3rver ignores If-None-Match: the s3 store says so, as it would for such a server.
    const engines = [0, 1].map(() => Engine.create(config, [s3Plugin({ conditionalPut: false }), retryPlugin(config)]));
    const outcomes = await Promise.allSettled(engines.map((engine) => engine.mount()));
    const mounted = outcomes.filter((outcome) => outcome.status === 'fulfilled').length;
    const refusals = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as Error] : []));
    try {
      assert.equal(mounted, 1, `round ${round}: ${mounted} mounts took the volume (${refusals.map((e) => e.message).join(' / ')})`);
      for (const error of refusals) assert.ok(isS3BackerError(error, 'S3B_MOUNTED_ELSEWHERE'), `round ${round}: ${error.message}`);
      if (refusals.some((error) => /at the same moment/.test(error.message))) decidedByReadBack++;
    } finally {
      for (const [i, outcome] of outcomes.entries()) if (outcome.status === 'fulfilled') await engines[i]!.shutdown();
    }
  }
  t.diagnostic(`${decidedByReadBack} of 20 rounds were decided by the read-back (both mounts had found no flag)`);
});
