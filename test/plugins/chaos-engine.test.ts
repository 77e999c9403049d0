import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Engine } from '../../src/engine/engine.js';
import type { S3BackerPlugin } from '../../src/engine/plugin.js';
import type { ObjectStore, StoredObject } from '../../src/engine/object-store.js';
import { Stage } from '../../src/engine/stages.js';
import type { OptionValues } from '../../src/config/options.js';
import { isS3BackerError, type S3BackerError } from '../../src/errors/s3backer-error.js';
import { memoryPlugin } from '../../plugins/memory/index.js';
import { zeroMapPlugin } from '../../plugins/zero-map/index.js';
import { blockCachePlugin } from '../../plugins/block-cache/index.js';
import { deflatePlugin } from '../../plugins/compress-deflate/index.js';
import { encryptPlugin } from '../../plugins/encrypt-hmac/index.js';
import { chaosPlugin, chaosFromTestFlags, ChaosStore, resolveChaosOptions, type ChaosOptions } from '../../plugins/chaos/index.js';
import { testConfig } from '../helpers/test-config.js';

const BLOCK = 4096;
const BLOCKS = 64;
/** A block's test bytes: different in every block and every round. */
const pattern = (block: number, round = 0) => Buffer.alloc(BLOCK, ((block * 7 + round * 13) % 251) + 1);

function engineOver(volume: Map<string, StoredObject>, plugins: S3BackerPlugin[], config: Partial<OptionValues> = {}): Engine {
  return Engine.create(testConfig({ store: 'memory', size: BLOCK * BLOCKS, blockSize: BLOCK, ...config }), [memoryPlugin({ volume }), zeroMapPlugin(), ...plugins]);
}

/** Write `blocks` through a plain engine, so later mounts find them stored. */
async function stored(volume: Map<string, StoredObject>, blocks: number[], plugins: S3BackerPlugin[] = []): Promise<void> {
  const engine = engineOver(volume, plugins);
  try {
    const device = await engine.mount();
    for (const block of blocks) await device.write(block * BLOCK, pattern(block));
  } finally {
    await engine.shutdown();
  }
}

test('block cache over chaos(memory): an outage shorter than the unmount\'s retries loses no acknowledged write', { timeout: 30_000 }, async () => {
  const volume = new Map<string, StoredObject>();
  const chaos = chaosPlugin({ seed: 7, latency: { min: 0, max: 5 } });
  const engine = engineOver(volume, [blockCachePlugin({ writeDelay: 0, retryPause: 50, size: 32 }), chaos], { shutdownTimeout: 10 });
  let shutDown = false;
  try {
    const device = await engine.mount();
    await device.write(40 * BLOCK, pattern(40));
    await device.flush();
    chaos.outage(1200);
    // Acknowledged by the cache while every upload is refused.
    for (let block = 0; block < 12; block++) await device.write(block * BLOCK, pattern(block, 1));
    await assert.rejects(device.flush(), (error: unknown) =>
      isS3BackerError(error, 'S3B_FLUSH_FAILED') && /injected outage: connection refused/.test((error as Error).message), 'fsync during the outage fails, saying why');
    // A block in the cache still reads; one that is not fails clearly instead of reading as zeros.
    assert.ok((await device.read(3 * BLOCK, BLOCK)).equals(pattern(3, 1)));
    await assert.rejects(device.read(50 * BLOCK, BLOCK), (error: unknown) =>
      isS3BackerError(error, 'S3B_BACKEND_UNREACHABLE') && (error as S3BackerError).block === 50 && /injected outage/.test((error as Error).message));
    assert.ok(chaos.counters.injected.outage > 0);
    assert.equal([...volume.keys()].filter((k) => k !== '00000028' && /^[0-9a-f]{8}$/.test(k)).length, 0, 'nothing reached the store during the outage');
    // Unmount while the outage lasts: it keeps retrying (--shutdownTimeout=10) and succeeds after.
    const started = performance.now();
    await engine.shutdown();
    shutDown = true;
    assert.ok(performance.now() - started > 300, 'the unmount had to wait for the outage to end');
  } finally {
    if (!shutDown) await engine.shutdown().catch(() => {});
  }
  assert.equal(volume.has('s3backer-mounted'), false, 'a clean unmount cleared the mounted flag');
  const again = engineOver(volume, []);
  try {
    const device = await again.mount();
    for (let block = 0; block < 12; block++) assert.ok((await device.read(block * BLOCK, BLOCK)).equals(pattern(block, 1)), `block ${block} survived`);
    assert.ok((await device.read(40 * BLOCK, BLOCK)).equals(pattern(40)));
  } finally {
    await again.shutdown();
  }
});

test('block cache over chaos(memory): fsync fails during an outage and succeeds once it is over, with the data intact after remount', { timeout: 30_000 }, async () => {
  const volume = new Map<string, StoredObject>();
  const chaos = chaosPlugin({ seed: 8, latency: { mean: 2, max: 10 } });
  const engine = engineOver(volume, [blockCachePlugin({ writeDelay: 0, retryPause: 50 }), chaos]);
  try {
    const device = await engine.mount();
    chaos.outage(500);
    for (let block = 20; block < 30; block++) await device.write(block * BLOCK, pattern(block, 2));
    await assert.rejects(device.flush(), (error: unknown) => isS3BackerError(error, 'S3B_FLUSH_FAILED'));
    await sleep(600);
    await device.flush();
  } finally {
    await engine.shutdown();
  }
  const again = engineOver(volume, []);
  try {
    const device = await again.mount();
    for (let block = 20; block < 30; block++) assert.ok((await device.read(block * BLOCK, BLOCK)).equals(pattern(block, 2)), `block ${block}`);
  } finally {
    await again.shutdown();
  }
});

/**
 * The chaos store for block objects only: a truncated key-check object would fail the mount
 * before any block is read (the encryption plugin's check, plugins/encrypt-hmac).
 */
function chaosOnBlocks(options: ChaosOptions): S3BackerPlugin & { chaos: () => ChaosStore | undefined } {
  let chaos: ChaosStore | undefined;
  return {
    name: 'chaos-on-blocks',
    chaos: () => chaos,
    apply: (e) => e.hooks.wrapStore.tap({ name: 'chaos-on-blocks', stage: Stage.STORE_FAULTS }, (inner: ObjectStore): ObjectStore => {
      const faulty = new ChaosStore(inner, resolveChaosOptions(options));
      chaos = faulty;
      return Object.assign(Object.create(inner) as ObjectStore, {
        get: (key: string) => (/^[0-9a-f]{8}$/.test(key) ? faulty.get(key) : inner.get(key)),
      });
    }),
  };
}

test('truncated bodies never read as data: plain blocks fail S3B_BLOCK_CORRUPT, compressed S3B_DECODE_FAILED, encrypted S3B_AUTH_FAILED, naming the block', { timeout: 30_000 }, async () => {
  const blocks = [1, 2, 3, 4, 5, 6, 7, 8];
  const cases = [
    ['plain', 'S3B_BLOCK_CORRUPT', () => []],
    ['deflate', 'S3B_DECODE_FAILED', () => [deflatePlugin({ encode: true })]],
    ['deflate+encrypt', 'S3B_AUTH_FAILED', () => [deflatePlugin({ encode: true }), encryptPlugin({ password: 'chaos' })]],
  ] as const;
  for (const [label, code, codecs] of cases) {
    const volume = new Map<string, StoredObject>();
    await stored(volume, blocks, [...codecs()]);
    const chaos = chaosOnBlocks({ seed: 12, truncateRate: 0.4 });
    const engine = engineOver(volume, [...codecs(), blockCachePlugin({ size: 2, readAhead: 0 }), chaos]);
    let failures = 0;
    try {
      const device = await engine.mount();
      for (let round = 0; round < 10; round++) {
        for (const block of blocks) {
          try {
            assert.ok((await device.read(block * BLOCK, BLOCK)).equals(pattern(block)), `${label}: block ${block} read wrong data`);
          } catch (error) {
            if (error instanceof assert.AssertionError) throw error;
            assert.ok(isS3BackerError(error, code) && (error as S3BackerError).block === block, `${label}: ${String(error)}`);
            failures++;
          }
        }
      }
    } finally {
      await engine.shutdown();
    }
    const truncated = chaos.chaos()!.counters.injected.truncated;
    assert.ok(failures > 0 && failures === truncated, `${label}: every truncated body (${truncated}) failed its read (${failures})`);
  }
});

test('an answer without an ETag is reported naming the block, never read as zeros or taken as stored', { timeout: 30_000 }, async () => {
  const volume = new Map<string, StoredObject>();
  await stored(volume, [5]);
  const noEtag = (error: unknown, block: number) => isS3BackerError(error, 'S3B_BACKEND_IO') && (error as S3BackerError).block === block && /without an ETag/.test((error as Error).message);
  for (const cache of [false, true]) {
    const engine = engineOver(volume, [...(cache ? [blockCachePlugin()] : []), chaosPlugin({ seed: 1, missingEtagRate: { get: 1, put: 1 } })]);
    try {
      const device = await engine.mount();
      await assert.rejects(device.read(5 * BLOCK, BLOCK), (error: unknown) => noEtag(error, 5), `read, cache ${cache}`);
      if (!cache) await assert.rejects(device.write(6 * BLOCK, pattern(6)), (error: unknown) => noEtag(error, 6), 'write');
    } finally {
      await engine.shutdown().catch(() => {});
    }
  }
});

test('--test-discard through the engine: writes vanish, reads are zeros, the store is never touched, and the stats say so', { timeout: 30_000 }, async () => {
  const volume = new Map<string, StoredObject>();
  const engine = engineOver(volume, chaosFromTestFlags({ testDelays: false, testErrors: false, testDiscard: true }));
  try {
    const device = await engine.mount();
    await device.write(3 * BLOCK, pattern(3));
    assert.ok((await device.read(9 * BLOCK, BLOCK)).equals(Buffer.alloc(BLOCK)));
    await device.flush();
    const stats = engine.stats.render();
    assert.match(stats, /^chaos_discarded +[1-9]\d*$/m);
    assert.match(stats, /^chaos_injected_503 +0$/m);
  } finally {
    await engine.shutdown();
  }
  assert.equal(volume.size, 0, 'not even the mounted flag reached the store');
});

test('injected faults are counted in the stats file, one line per kind, under the plugin\'s name', { timeout: 30_000 }, async () => {
  const volume = new Map<string, StoredObject>();
  await stored(volume, [1, 2, 3]);
  const chaos = chaosPlugin({ name: 'rehearsal', seed: 99, latency: 1 });
  const engine = engineOver(volume, [chaos]);
  try {
    const device = await engine.mount();
    for (const block of [1, 2, 3]) await device.read(block * BLOCK, BLOCK);
    chaos.outage(10_000);
    await assert.rejects(device.read(BLOCK, BLOCK));
    const stats = engine.stats.render();
    for (const kind of ['500', '503', '429', '403', 'timeout', 'truncated', 'no_etag']) assert.match(stats, new RegExp(`^rehearsal_injected_${kind} +0$`, 'm'));
    assert.match(stats, /^rehearsal_injected_outage +1$/m);
    assert.match(stats, new RegExp(`^rehearsal_injected_delay +${chaos.counters.injected.delay}$`, 'm'));
    assert.match(stats, /^rehearsal_delay_average +0\.001 sec$/m);
    assert.match(stats, new RegExp(`^rehearsal_requests +${chaos.counters.requests}$`, 'm'));
    engine.stats.reset();
    assert.match(engine.stats.render(), /^rehearsal_injected_outage +0$/m);
    // outage(0) ends it, so the unmount's own requests get through.
    chaos.outage(0);
  } finally {
    await engine.shutdown();
  }
});
