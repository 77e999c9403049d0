import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Engine } from '../../src/engine/engine.js';
import type { S3BackerPlugin } from '../../src/engine/plugin.js';
import type { OptionValues } from '../../src/config/options.js';
import { isS3BackerError } from '../../src/errors/s3backer-error.js';
import { zeroMapPlugin } from '../../plugins/zero-map/index.js';
import { blockCachePlugin, type BlockCachePluginOptions } from '../../plugins/block-cache/index.js';
import { InstrumentedStore } from '../helpers/instrumented-store.js';
import { testConfig } from '../helpers/test-config.js';

const BLOCK = 4096;
const BLOCKS = 64;
const key = (block: number) => block.toString(16).padStart(8, '0');
const filled = (byte: number, length = BLOCK) => Buffer.alloc(length, byte);

async function mounted(cache: BlockCachePluginOptions | false, options: { store?: InstrumentedStore; config?: Partial<OptionValues> } = {}) {
  const store = options.store ?? new InstrumentedStore();
  const provide: S3BackerPlugin = { name: 'test-store', apply: (e) => e.hooks.createStore.for(e.config.store).tapPromise('test-store', async () => store) };
  const evicted: number[] = [];
  const observe: S3BackerPlugin = { name: 'observe-evict', apply: (e) => e.hooks.evict.tap('observe-evict', ({ block }) => { evicted.push(block); }) };
  const engine = Engine.create(testConfig({ size: BLOCK * BLOCKS, blockSize: BLOCK, ...options.config }),
    [provide, zeroMapPlugin(), ...(cache ? [blockCachePlugin({ retryPause: 10, ...cache })] : []), observe]);
  const device = await engine.mount();
  return { engine, device, store, evicted };
}

const settled = async (promise: Promise<unknown>) => {
  let done = false;
  void promise.then(() => { done = true; }, () => { done = true; });
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
  return done;
};

test('write-back: a write returns before its upload; fsync (flush) returns only after it is stored', { timeout: 10_000 }, async () => {
  const { engine, device, store } = await mounted({ writeDelay: 0 });
  store.hold = (op) => op === 'put';
  await device.write(3 * BLOCK, filled(7));
  assert.equal(store.volume.has(key(3)), false, 'not stored yet: the upload is held');
  const flushed = device.flush();
  assert.equal(await settled(flushed), false, 'flush waits for the held upload');
  await store.waitForHeld(1);
  store.releaseAll();
  await flushed;
  assert.ok(store.volume.get(key(3))!.body.equals(filled(7)));
  assert.ok((await device.read(3 * BLOCK, BLOCK)).equals(filled(7)), 'reads see the write throughout');
  await engine.shutdown();
});

test('a block rewritten while it uploads is uploaded again, in order, never two uploads at once', { timeout: 10_000 }, async () => {
  const { engine, device, store } = await mounted({ writeDelay: 0 });
  store.hold = (op) => op === 'put';
  await device.write(5 * BLOCK, filled(1));
  await store.waitForHeld(1);
  // Written twice more while the first upload is in flight.
  await device.write(5 * BLOCK, filled(2));
  await device.write(5 * BLOCK, filled(3));
  assert.ok((await device.read(5 * BLOCK, BLOCK)).equals(filled(3)));
  const flushed = device.flush();
  store.hold = () => false;
  store.releaseAll();
  await flushed;
  assert.deepEqual(store.log.filter((line) => line.startsWith(`put ${key(5)}`)), [`put ${key(5)} 1`, `put ${key(5)} 3`]);
  assert.equal(store.maxWritesInFlightPerKey, 1);
  assert.ok(store.volume.get(key(5))!.body.equals(filled(3)));
  await engine.shutdown();
});

test('fsync fails with S3B_FLUSH_FAILED while the store refuses, the block stays dirty, and a later fsync stores it', { timeout: 10_000 }, async () => {
  const { engine, device, store } = await mounted({ writeDelay: 0 });
  let broken = true;
  store.failWith = (op) => (broken && op === 'put' ? new Error('store is down') : undefined);
  await device.write(9 * BLOCK, filled(9));
  await assert.rejects(device.flush(), (error: unknown) => isS3BackerError(error, 'S3B_FLUSH_FAILED') && /store is down/.test((error as Error).message));
  assert.equal(store.volume.has(key(9)), false);
  assert.deepEqual(await engine.listBlocks(), [9], 'a dirty block is listed although not stored');
  broken = false;
  await device.flush();
  assert.ok(store.volume.get(key(9))!.body.equals(filled(9)));
  await engine.shutdown();
});

test('unmount with an unreachable store gives up after --shutdownTimeout with a clear error, keeping the mounted flag', { timeout: 20_000 }, async () => {
  const { engine, device, store } = await mounted({ writeDelay: 0 }, { config: { shutdownTimeout: 2 } });
  store.failWith = (op) => (op === 'put' ? new Error('connection refused') : undefined);
  await device.write(0, filled(1));
  await device.write(BLOCK, filled(2));
  const started = Date.now();
  await assert.rejects(engine.shutdown(), (error: unknown) => {
    const message = (error as Error).message;
    return isS3BackerError(error, 'S3B_FLUSH_FAILED') && /2 dirty blocks/.test(message) && /LOST/.test(message) && /mounted flag stays set/.test(message);
  });
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 1900 && elapsed < 8000, `gave up after ${elapsed} ms`);
  assert.ok(store.volume.has('s3backer-mounted'), 'the flag stays set: the volume did not shut down cleanly');
});

test('reads are never starved by write-back: an uncached read completes while every upload slot is held', { timeout: 10_000 }, async () => {
  const { engine, device, store } = await mounted({ writeDelay: 0, threads: 4 });
  store.volume.set(key(40), { body: filled(40), etag: '"x"', size: BLOCK, metadata: {} });
  store.hold = (op) => op === 'put';
  for (let block = 0; block < 12; block++) await device.write(block * BLOCK, filled(block + 1));
  await store.waitForHeld(4);
  assert.ok((await device.read(40 * BLOCK, BLOCK)).equals(filled(40)), 'the read went straight to the store');
  assert.equal(store.held.length, 4, 'no more than --blockCacheThreads uploads at once');
  store.hold = () => false;
  store.releaseAll();
  await engine.shutdown();
  for (let block = 0; block < 12; block++) assert.ok(store.volume.get(key(block))!.body.equals(filled(block + 1)));
});

test('--blockCacheMaxDirty: a writer waits while that many blocks are dirty; rewrites of a dirty block do not', { timeout: 10_000 }, async () => {
  const { engine, device, store } = await mounted({ writeDelay: 0, maxDirty: 3 });
  store.hold = (op) => op === 'put';
  for (let block = 0; block < 3; block++) await device.write(block * BLOCK, filled(block + 1));
  await device.write(0, filled(9));
  const fourth = device.write(3 * BLOCK, filled(4));
  assert.equal(await settled(fourth), false, 'the fourth dirty block waits');
  await store.waitForHeld(3);
  // Block 0 was rewritten while uploading, so only another block's upload makes room.
  const upload1 = store.held.findIndex((request) => request.key === key(1));
  store.held.splice(upload1, 1)[0]!.release();
  await fourth;
  store.hold = () => false;
  store.releaseAll();
  await engine.shutdown();
});

test('a cache full of dirty blocks uploads the oldest at once instead of waiting out the write delay', { timeout: 10_000 }, async () => {
  const { engine, device, store } = await mounted({ size: 4, writeDelay: 60_000 });
  for (let block = 0; block < 4; block++) await device.write(block * BLOCK, filled(block + 1));
  const started = Date.now();
  await device.write(4 * BLOCK, filled(5));
  assert.ok(Date.now() - started < 5000, 'did not wait for the 60 s write delay');
  assert.ok(store.counts.put >= 1);
  await engine.shutdown();
  for (let block = 0; block < 5; block++) assert.ok(store.volume.get(key(block))!.body.equals(filled(block + 1)));
});

test('read-ahead fetches the next blocks of a sequential reader in parallel, never past the last block', { timeout: 10_000 }, async () => {
  const { engine, device, store } = await mounted({ readAhead: 4, readAheadTrigger: 2 });
  for (let block = 0; block < BLOCKS; block++) store.volume.set(key(block), { body: filled(block + 1), etag: `"${block}"`, size: BLOCK, metadata: {} });
  await device.read(10 * BLOCK, BLOCK);
  await device.read(11 * BLOCK, BLOCK);
  await engine.shutdown().catch(() => {});
  const again = await mounted({ readAhead: 4, readAheadTrigger: 2 }, { store: new InstrumentedStore(store.volume) });
  const before = again.store.counts.get;
  await again.device.read(10 * BLOCK, BLOCK);
  await again.device.read(11 * BLOCK, BLOCK);
  for (let i = 0; i < 50 && again.store.counts.get - before < 6; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(again.store.counts.get - before, 6, 'blocks 10 and 11, then 12..15 ahead');
  const misses = () => Number(/^block_cache_read_misses +(\d+)/m.exec(again.engine.stats.render())![1]);
  const missed = misses();
  for (let block = 12; block < 40; block++) assert.ok((await again.device.read(block * BLOCK, BLOCK)).equals(filled(block + 1)));
  assert.equal(misses(), missed, 'a sequential reader is served from read-ahead: no read waits for a download');
  // The window grew past --readAhead while the reader stayed sequential (up to --blockCacheThreads).
  for (let i = 0; i < 50 && again.store.counts.get < 40 + 8; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(again.store.counts.get - before >= 40 - 10 + 8, `read-ahead window grew (${again.store.counts.get - before} GETs)`);
  // At the end of the disk nothing past the last block is requested (a GET past it would throw in the geometry).
  await again.device.read((BLOCKS - 3) * BLOCK, BLOCK);
  await again.device.read((BLOCKS - 2) * BLOCK, BLOCK);
  await again.device.read((BLOCKS - 1) * BLOCK, BLOCK);
  await new Promise((resolve) => setTimeout(resolve, 50));
  await again.engine.shutdown();
});

test('partial writes of an uncached block read it once, not once per write; one PUT after the delay', { timeout: 10_000 }, async () => {
  const { engine, device, store } = await mounted({ writeDelay: 100 });
  store.volume.set(key(7), { body: filled(0xaa), etag: '"a"', size: BLOCK, metadata: {} });
  for (let i = 0; i < 16; i++) await device.write(7 * BLOCK + i * 256, filled(i, 100));
  await device.flush();
  assert.equal(store.counts.get, 1);
  assert.equal(store.counts.put, 1);
  const expected = filled(0xaa);
  for (let i = 0; i < 16; i++) expected.fill(i, i * 256, i * 256 + 100);
  assert.ok(store.volume.get(key(7))!.body.equals(expected));
  await engine.shutdown();
});

test('eviction is LRU, protected blocks last; the evict hook sees each victim', { timeout: 10_000 }, async () => {
  const { engine, device, store, evicted } = await mounted({ size: 4, numProtected: 1, readAhead: 0 });
  for (let block = 0; block < 8; block++) store.volume.set(key(block), { body: filled(block + 1), etag: `"${block}"`, size: BLOCK, metadata: {} });
  for (const block of [0, 1, 2, 3, 4, 5]) await device.read(block * BLOCK, BLOCK);
  const gets = store.counts.get;
  await device.read(0, BLOCK);
  assert.equal(store.counts.get, gets, 'protected block 0 is still cached');
  await device.read(BLOCK, BLOCK);
  assert.equal(store.counts.get, gets + 1, 'block 1 was the least recently used and went first');
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(evicted.slice(0, 2), [1, 2]);
  await engine.shutdown();
});

test('--blockCacheSync: a write returns only once stored', { timeout: 10_000 }, async () => {
  const { engine, device, store } = await mounted({ writeDelay: 0, sync: true });
  store.hold = (op) => op === 'put';
  const write = device.write(2 * BLOCK, filled(2));
  assert.equal(await settled(write), false);
  await store.waitForHeld(1);
  store.releaseAll();
  await write;
  assert.ok(store.volume.has(key(2)));
  await engine.shutdown();
});

test('stats: the C tool\'s block_cache_* lines', { timeout: 10_000 }, async () => {
  const { engine, device } = await mounted({ writeDelay: 0 });
  await device.write(0, filled(1));
  await device.read(0, BLOCK);
  await device.read(5 * BLOCK, BLOCK);
  const text = engine.stats.render();
  for (const name of ['current_size', 'initial_size', 'dirty_ratio', 'read_hits', 'read_misses', 'read_hit_ratio', 'write_hits', 'write_misses', 'write_hit_ratio', 'verified', 'mismatch']) {
    assert.match(text, new RegExp(`^block_cache_${name} +\\S`, 'm'));
  }
  assert.match(text, /^block_cache_read_hits +1$/m);
  assert.match(text, /^block_cache_read_misses +1$/m);
  assert.match(text, /^block_cache_write_misses +1$/m);
  await engine.shutdown();
});

test('oracle: concurrent random reads and writes (whole, partial, zero) through a small cache over a slow store', { timeout: 60_000 }, async () => {
  const seed = Number(process.env.S3BACKER_SEED ?? Date.now() % 100_000);
  let state = seed;
  const random = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
  const store = new InstrumentedStore();
  store.latency = () => Math.floor(random() * 4);
  const { engine, device } = await mounted({ size: 8, threads: 3, writeDelay: 2, readAhead: 2, readAheadTrigger: 2 }, { store });
  const SIZE = BLOCK * BLOCKS;
  const oracle = Buffer.alloc(SIZE);
  // Writes to one region are serialised per worker region so the oracle knows the last acknowledged write.
  const workers = Array.from({ length: 8 }, (_, w) => (async () => {
    const base = w * (SIZE / 8);
    for (let i = 0; i < 120; i++) {
      const kind = random();
      const offset = base + Math.floor(random() * (SIZE / 8 - 1));
      const length = Math.min(base + SIZE / 8 - offset, 1 + Math.floor(random() * BLOCK * 2));
      if (kind < 0.45) {
        const data = random() < 0.2 ? Buffer.alloc(length) : randomBytes(length);
        await device.write(offset, data);
        data.copy(oracle, offset);
      } else if (kind < 0.5) {
        await device.flush();
      } else {
        const got = await device.read(offset, length);
        const want = oracle.subarray(offset, offset + length);
        if (!got.equals(want)) assert.fail(`seed ${seed}: read ${length}@${offset} (block ${Math.floor(offset / BLOCK)}) differs from the last acknowledged write`);
      }
    }
  })());
  await Promise.all(workers);
  await engine.shutdown();
  assert.equal(store.maxWritesInFlightPerKey, 1, 'one block never had two uploads in flight');
  // Everything reached the store: a mount without any cache reads the oracle back.
  const plain = await mounted(false, { store: new InstrumentedStore(store.volume) });
  assert.ok((await plain.device.read(0, SIZE)).equals(oracle), `seed ${seed}: the store holds every acknowledged write`);
  await plain.engine.shutdown();
});

test('partial writes of a dirty block are applied in place, yet a buffer a reader already holds never changes', { timeout: 10_000 }, async () => {
  const { engine, device, store } = await mounted({ writeDelay: 60_000 });
  await device.write(6 * BLOCK, filled(1));
  // Sequential pieces of the dirty block: applied where the block lives, no whole-block rewrite.
  for (let i = 0; i < 8; i++) await device.write(6 * BLOCK + i * 512, filled(10 + i, 512));
  const held = await device.read(6 * BLOCK, BLOCK);
  const before = Buffer.from(held);
  // The reader holds the block's buffer now: the next piece must go to a new copy.
  await device.write(6 * BLOCK + 100, filled(0xff, 50));
  assert.ok(held.equals(before), 'a buffer handed to a reader is immutable');
  const expected = Buffer.alloc(BLOCK);
  for (let i = 0; i < 8; i++) expected.fill(10 + i, i * 512, i * 512 + 512);
  expected.fill(0xff, 100, 150);
  assert.ok((await device.read(6 * BLOCK, BLOCK)).equals(expected));
  await device.flush();
  assert.ok(store.volume.get(key(6))!.body.equals(expected));
  assert.equal(store.counts.put, 1, 'one upload for all the pieces');
  await engine.shutdown();
});

test('--blockCacheTimeout drops clean blocks unused for that long; dirty ones stay until stored', { timeout: 10_000 }, async () => {
  const { engine, device, store, evicted } = await mounted({ timeout: 200, writeDelay: 60_000, readAhead: 0 });
  store.volume.set(key(1), { body: filled(1), etag: '"1"', size: BLOCK, metadata: {} });
  await device.read(BLOCK, BLOCK);
  await device.write(2 * BLOCK, filled(2));
  for (let i = 0; i < 100 && !evicted.includes(1); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(evicted, [1], 'the idle clean block went; the dirty one stayed');
  const gets = store.counts.get;
  await device.read(BLOCK, BLOCK);
  assert.equal(store.counts.get, gets + 1, 'read again from the store');
  assert.ok((await device.read(2 * BLOCK, BLOCK)).equals(filled(2)));
  await engine.shutdown();
  assert.ok(store.volume.get(key(2))!.body.equals(filled(2)));
});
