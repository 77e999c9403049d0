// --maxUploadSpeed / --maxDownloadSpeed (plugins/store-limits): one token bucket per direction,
// shared by every request, measured through a mount; and the C tool's check of a block against
// --timeout at that speed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { storeLimitsPlugin, TokenBucket, checkTransferSpeeds } from '../../plugins/store-limits/index.js';
import { memoryPlugin } from '../../plugins/memory/index.js';
import type { MemoryVolume } from '../../plugins/memory/memory-store.js';
import { Engine } from '../../src/engine/engine.js';
import { isS3BackerError } from '../../src/errors/s3backer-error.js';
import { testConfig } from '../helpers/test-config.js';

const BLOCK = 128 * 1024;
const MIB = 1024 * 1024;

test('token bucket: a burst goes at once, then each request waits until its bytes would have passed at the rate', { timeout: 10_000 }, () => {
  let now = 0;
  const bucket = new TokenBucket({ rate: 1000, burst: 100, now: () => now });
  assert.equal(bucket.reserve(100), 0, 'the burst');
  assert.equal(bucket.reserve(500), 500, '500 bytes at 1000 B/s');
  assert.equal(bucket.reserve(250), 750, 'queued behind the first');
  now = 750;
  assert.equal(bucket.reserve(0), 0, 'paid off by now');
  now = 10_000;
  assert.equal(bucket.reserve(2000), 1900, 'more than the burst at once: in debt, never refused');
});

/** Time (s) to move 4 MiB as 32 blocks of 128 KiB in parallel through a mount limited to 8 Mibit/s. */
async function measure(direction: 'upload' | 'download'): Promise<number> {
  const speed = 8 * MIB;
  const volume: MemoryVolume = new Map();
  const config = testConfig({
    store: 'memory', size: 64 * BLOCK, blockSize: BLOCK,
    ...(direction === 'upload' ? { maxUploadSpeed: speed } : { maxDownloadSpeed: speed }),
  });
  const engine = Engine.create(config, [memoryPlugin({ volume }), storeLimitsPlugin(config)]);
  const device = await engine.mount();
  try {
    const data = Buffer.alloc(4 * MIB);
    for (let i = 0; i < data.length; i += 4) data.writeUInt32LE(i, i);
    if (direction === 'download') await device.write(0, data);
    const started = performance.now();
    if (direction === 'upload') await device.write(0, data);
    else assert.ok((await device.read(0, data.length)).equals(data));
    return (performance.now() - started) / 1000;
  } finally {
    await engine.shutdown();
  }
}

test('8 Mibit/s moves 4 MiB in about 4 s, upload and download, whatever the requests in parallel', { timeout: 60_000 }, async (t) => {
  // 4 MiB at 1 MiB/s, less the bucket's burst of a tenth of a second.
  const expected = 4 - 0.1;
  for (const direction of ['upload', 'download'] as const) {
    const seconds = await measure(direction);
    t.diagnostic(`${direction}: 4 MiB at 8 Mibit/s in ${seconds.toFixed(2)} s (expected ${expected.toFixed(2)} s, ${((seconds / expected - 1) * 100).toFixed(1)}%)`);
    assert.ok(Math.abs(seconds - expected) <= expected * 0.25, `${direction}: ${seconds.toFixed(2)} s`);
  }
});

test('no speed given: nothing is wrapped, nothing waits', { timeout: 10_000 }, async () => {
  const config = testConfig({ store: 'memory', size: 64 * BLOCK, blockSize: BLOCK });
  const engine = Engine.create(config, [memoryPlugin(), storeLimitsPlugin(config)]);
  const device = await engine.mount();
  try {
    const started = performance.now();
    await device.write(0, Buffer.alloc(4 * MIB, 1));
    assert.ok(performance.now() - started < 1000);
    assert.equal(engine.store.constructor.name, 'MemoryStore');
  } finally {
    await engine.shutdown();
  }
});

test('the C tool\'s startup check: a block that cannot move within --timeout at the speed is S3B_CONFIG_INVALID', { timeout: 10_000 }, async () => {
  // 128 KiB at 32 kibit/s (4 KiB/s) takes 32 s, not within --timeout 30.
  assert.throws(() => storeLimitsPlugin(testConfig({ blockSize: BLOCK, maxUploadSpeed: 32 * 1024 })), (error) =>
    isS3BackerError(error, 'S3B_CONFIG_INVALID') && /--timeout=30 s is too short for one 131072-byte block at --maxUploadSpeed=32768 bits\/s/.test((error as Error).message));
  assert.throws(() => storeLimitsPlugin(testConfig({ blockSize: BLOCK, maxDownloadSpeed: 32 * 1024, timeout: 30 })), (error) => isS3BackerError(error, 'S3B_CONFIG_INVALID') && /--maxDownloadSpeed/.test((error as Error).message));
  // At the edge, integer seconds as in the C tool: 131072 / 4369 B/s = 30.0007 s -> 30 >= 30, refused; 4370 B/s -> 29, accepted.
  assert.throws(() => checkTransferSpeeds({ maxUploadSpeed: 4369 * 8, timeout: 30 }, BLOCK));
  checkTransferSpeeds({ maxUploadSpeed: 4370 * 8, timeout: 30 }, BLOCK);
  assert.throws(() => checkTransferSpeeds({ maxUploadSpeed: 7, timeout: 30 }, BLOCK), (error) => isS3BackerError(error, 'S3B_CONFIG_INVALID'));
  // Raising --timeout makes the same speed acceptable.
  storeLimitsPlugin(testConfig({ blockSize: BLOCK, maxUploadSpeed: 32 * 1024, timeout: 33 }));

  // Without --blockSize the C tool cannot check; the plugin checks the auto-detected size at mount.
  const volume: MemoryVolume = new Map();
  const first = testConfig({ store: 'memory', size: 64 * BLOCK, blockSize: BLOCK });
  const writer = Engine.create(first, [memoryPlugin({ volume })]);
  await (await writer.mount()).write(0, Buffer.alloc(BLOCK, 1));
  await writer.shutdown();
  const detected = testConfig({ store: 'memory', maxUploadSpeed: 32 * 1024 });
  await assert.rejects(Engine.create(detected, [memoryPlugin({ volume }), storeLimitsPlugin(detected)]).mount(), (error) =>
    isS3BackerError(error, 'S3B_CONFIG_INVALID') && /131072-byte block/.test((error as Error).message));
});
