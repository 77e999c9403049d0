import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../src/engine/engine.js';
import type { S3BackerPlugin } from '../../src/engine/plugin.js';
import type { OptionValues } from '../../src/config/options.js';
import { isS3BackerError } from '../../src/errors/s3backer-error.js';
import { zeroMapPlugin } from '../../plugins/zero-map/index.js';
import { blockCachePlugin, FileCacheStorage, type BlockCachePluginOptions } from '../../plugins/block-cache/index.js';
import { InstrumentedStore } from '../helpers/instrumented-store.js';
import { testConfig } from '../helpers/test-config.js';

const BLOCK = 4096;
const BLOCKS = 64;
const key = (block: number) => block.toString(16).padStart(8, '0');
const filled = (byte: number) => Buffer.alloc(BLOCK, byte);

async function withCacheFile(run: (file: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 's3backer-cache-file-plugin-'));
  try {
    await run(join(dir, 'cache'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function mount(store: InstrumentedStore, cache: BlockCachePluginOptions, config: Partial<OptionValues> = {}) {
  const provide: S3BackerPlugin = { name: 'test-store', apply: (e) => e.hooks.createStore.for(e.config.store).tapPromise('test-store', async () => store) };
  const engine = Engine.create(testConfig({ size: BLOCK * BLOCKS, blockSize: BLOCK, ...config }),
    [provide, zeroMapPlugin(), blockCachePlugin({ readAhead: 0, retryPause: 10, ...cache })]);
  const device = await engine.mount();
  const stat = (name: string) => Number(new RegExp(`^block_cache_${name} +(\\d+)`, 'm').exec(engine.stats.render())?.[1]);
  return { engine, device, stat };
}

test('a cache file keeps clean blocks across mounts; reloaded blocks are verified by ETag (a HEAD, no GET), a stale one is read again', { timeout: 20_000 }, async () => {
  await withCacheFile(async (file) => {
    const store = new InstrumentedStore();
    const first = await mount(store, { file, writeDelay: 0 });
    for (let block = 0; block < 6; block++) await first.device.write(block * BLOCK, filled(block + 1));
    await first.engine.shutdown();

    // Changed behind our back while unmounted: block 2 now differs from the cached copy.
    await new InstrumentedStore(store.volume).put(key(2), filled(0xee));
    const reader = new InstrumentedStore(store.volume);
    const second = await mount(reader, { file });
    assert.equal(second.stat('initial_size'), 6);
    // Mounting itself reads block 0's metadata (size detection): count only what the reads cost.
    const before = { get: reader.counts.get, head: reader.counts.head };
    for (let block = 0; block < 6; block++) {
      const expected = block === 2 ? filled(0xee) : filled(block + 1);
      assert.ok((await second.device.read(block * BLOCK, BLOCK)).equals(expected), `block ${block}`);
    }
    assert.equal(second.stat('verified'), 5);
    assert.equal(second.stat('mismatch'), 1);
    assert.equal(reader.counts.get - before.get, 1, 'only the stale block was downloaded');
    assert.equal(reader.counts.head - before.head, 6, 'one HEAD per reloaded block');
    await second.engine.shutdown();

    // --blockCacheNoVerify trusts the file: no requests at all.
    const trusting = new InstrumentedStore(store.volume);
    const third = await mount(trusting, { file, noVerify: true });
    const mounted = trusting.counts.get + trusting.counts.head;
    for (let block = 0; block < 6; block++) await third.device.read(block * BLOCK, BLOCK);
    assert.equal(trusting.counts.get + trusting.counts.head, mounted, 'reads cost no request');
    await third.engine.shutdown();
  });
});

test('dirty blocks of an unknown mount are refused, never silently dropped; --blockCacheRecoverDirtyBlocks uploads them', { timeout: 20_000 }, async () => {
  await withCacheFile(async (file) => {
    const store = new InstrumentedStore();
    // A file left by a mount whose flag someone has since reset: dirty blocks, a token the volume no longer has.
    const left = new FileCacheStorage(file);
    await left.open({ id: `${store.description} `, blockSize: BLOCK, numBlocks: BLOCKS, capacity: 1000, mountToken: 0x1234 });
    await left.putDirty(3, filled(3));
    await left.putDirty(9, filled(9));
    await left.close(false);

    await assert.rejects(mount(store, { file }), (error: unknown) =>
      isS3BackerError(error, 'S3B_CACHE_FILE') && /holds 2 blocks/.test((error as Error).message) && /--blockCacheRecoverDirtyBlocks/.test((error as Error).message));
    assert.equal(store.volume.has('s3backer-mounted'), false, 'a refused mount leaves no flag behind');

    const recovered = await mount(new InstrumentedStore(store.volume), { file, recoverDirtyBlocks: true });
    await recovered.device.flush();
    assert.ok(store.volume.get(key(3))!.body.equals(filled(3)));
    assert.ok(store.volume.get(key(9))!.body.equals(filled(9)));
    await recovered.engine.shutdown();
  });
});

test('a second mount with the same cache file is refused while the first is alive; its flag is not taken over', { timeout: 20_000 }, async () => {
  await withCacheFile(async (file) => {
    const store = new InstrumentedStore();
    const first = await mount(store, { file });
    await assert.rejects(mount(new InstrumentedStore(store.volume), { file }), (error: unknown) => isS3BackerError(error, 'S3B_MOUNTED_ELSEWHERE'));
    await assert.rejects(mount(new InstrumentedStore(store.volume), { file }, { force: true }), (error: unknown) =>
      isS3BackerError(error, 'S3B_CACHE_FILE') && /in use by s3backer process/.test((error as Error).message));
    await first.engine.shutdown();
    assert.equal(store.volume.has('s3backer-mounted'), false, 'the first mount released its own flag');
  });
});

test('a stale lock (its process is gone) does not block the cache file', { timeout: 20_000 }, async () => {
  await withCacheFile(async (file) => {
    await writeFile(`${file}.lock`, JSON.stringify({ pid: 999_999, bootId: 'another boot', startTime: '1' }));
    const store = new InstrumentedStore();
    const { engine, device } = await mount(store, { file });
    await device.write(0, filled(1));
    await engine.shutdown();
    assert.ok(store.volume.get(key(0))!.body.equals(filled(1)));
  });
});
