import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine.js';
import type { S3BackerPlugin } from '../../src/engine/plugin.js';
import type { OptionValues } from '../../src/config/options.js';
import type { LogLevel } from '../../src/engine/logger.js';
import { S3BackerError, isS3BackerError } from '../../src/errors/s3backer-error.js';
import { zeroMapPlugin, type ZeroMapPluginOptions } from '../../plugins/zero-map/index.js';
import { blockCachePlugin, MemoryStorage, type CacheContents } from '../../plugins/block-cache/index.js';
import { MemoryStore, type MemoryVolume } from '../../plugins/memory/memory-store.js';
import { InstrumentedStore } from '../helpers/instrumented-store.js';
import { testConfig } from '../helpers/test-config.js';

const BLOCK = 4096;
const BLOCKS = 256;
const key = (block: number) => block.toString(16).padStart(8, '0');
const filled = (byte: number) => Buffer.alloc(BLOCK, byte);
const zeros = filled(0);

/** Blocks put straight into the volume, as an earlier mount would have left them. */
async function volumeWith(blocks: number[]): Promise<MemoryVolume> {
  const volume: MemoryVolume = new Map();
  const store = new MemoryStore(volume);
  for (const block of blocks) await store.put(key(block), filled(block & 0xff || 0xaa));
  return volume;
}

interface Mounted {
  engine: Engine;
  device: Awaited<ReturnType<Engine['mount']>>;
  store: InstrumentedStore;
  logs: Array<[LogLevel, string]>;
}

async function mount(store: InstrumentedStore, options: { survey?: ZeroMapPluginOptions; config?: Partial<OptionValues>; plugins?: S3BackerPlugin[] } = {}): Promise<Mounted> {
  const provide: S3BackerPlugin = { name: 'test-store', apply: (e) => e.hooks.createStore.for(e.config.store).tapPromise('test-store', async () => store) };
  const logs: Array<[LogLevel, string]> = [];
  const engine = Engine.create(testConfig({ size: BLOCK * BLOCKS, blockSize: BLOCK, ...options.config }),
    [provide, zeroMapPlugin({ listBlocks: true, listBlocksThreads: 4, ...options.survey }), ...(options.plugins ?? [])],
    { log: (level, _source, message) => logs.push([level, message]) });
  const device = await engine.mount();
  return { engine, device, store, logs };
}

function stat(engine: Engine, name: string): string {
  const match = new RegExp(`^${name}\\s+(.*)$`, 'm').exec(engine.stats.render());
  assert.ok(match, `stats has ${name}`);
  return match[1]!;
}

/** Poll the stats file until the survey has ended; returns its final state. */
async function surveyEnded(engine: Engine, timeoutMs = 5000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = stat(engine, 'zero_block_survey');
    if (!state.startsWith('running') && state !== 'not started') return state;
    if (Date.now() > deadline) assert.fail(`the survey is still ${state} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

test('after the survey, never-written blocks read as zeros with no GET; written blocks read their data', { timeout: 10_000 }, async () => {
  const written = [3, 100, 255];
  const { engine, device, store } = await mount(new InstrumentedStore(await volumeWith(written)));
  try {
    assert.equal(await surveyEnded(engine), 'completed');
    assert.equal(stat(engine, 'zero_block_survey_objects'), '3');
    assert.match(stat(engine, 'zero_block_survey_time'), /^\d+\.\d{3} sec$/);
    assert.equal(stat(engine, 'zero_block_cache_size'), `${BLOCKS - written.length} blocks`);
    const gets = store.counts.get;
    const image = await device.read(0, BLOCK * BLOCKS);
    assert.equal(store.counts.get - gets, written.length, 'a GET for each written block only');
    for (let block = 0; block < BLOCKS; block++) {
      const expected = written.includes(block) ? filled(block & 0xff || 0xaa) : zeros;
      assert.ok(image.subarray(block * BLOCK, (block + 1) * BLOCK).equals(expected), `block ${block}`);
    }
    assert.equal(stat(engine, 'zero_block_cache_read_hits'), String(BLOCKS - written.length));
  } finally {
    await engine.shutdown();
  }
});

test('a trim of the whole volume after the survey deletes only the blocks that exist', { timeout: 10_000 }, async () => {
  const written = [0, 7, 200];
  // Without the survey every whole block of the trim is a DELETE (the control).
  const control = await mount(new InstrumentedStore(await volumeWith(written)), { survey: { listBlocks: false } });
  try {
    await control.device.trim(0, BLOCK * BLOCKS);
    assert.equal(control.store.counts.delete, BLOCKS);
  } finally {
    await control.engine.shutdown();
  }

  const { engine, device, store } = await mount(new InstrumentedStore(await volumeWith(written)));
  try {
    assert.equal(await surveyEnded(engine), 'completed');
    await device.trim(0, BLOCK * BLOCKS);
    assert.deepEqual(store.log.filter((line) => line.startsWith('delete')).sort(), written.map((block) => `delete ${key(block)}`).sort());
    assert.equal(store.volume.size, 1, 'only the mounted flag is left');
    assert.equal(stat(engine, 'zero_block_cache_write_hits'), String(BLOCKS - written.length));
    // A second trim costs nothing at all: everything is known zero now.
    await device.trim(0, BLOCK * BLOCKS);
    assert.equal(store.counts.delete, written.length);
  } finally {
    await engine.shutdown();
  }
});

test('writes racing the survey are never marked zero; blocks zeroed during it are zeros', { timeout: 10_000 }, async () => {
  // 1 and 2 exist; the listing's pages are taken now (a server's answer reflects the bucket when it
  // was asked) and held while the volume changes under them.
  const store = new InstrumentedStore(await volumeWith([1, 2]));
  store.holdList = () => true;
  const { engine, device } = await mount(store);
  try {
    await store.waitForHeldLists(4);
    await device.write(7 * BLOCK, filled(7));            // a new block, not in any page
    await device.write(2 * BLOCK, zeros);                // an existing block deleted
    await device.write(9 * BLOCK, zeros);                // zeros onto a block that never existed
    await device.write(11 * BLOCK + 100, Buffer.from('partial')); // read-modify-write of a new block
    // A write still in flight when the survey completes.
    store.hold = (op, k) => op === 'put' && k === key(13);
    const inFlight = device.write(13 * BLOCK, filled(13));
    await store.waitForHeld(1);

    for (const page of store.heldLists.splice(0)) page.release();
    assert.equal(await surveyEnded(engine), 'completed');
    assert.equal(stat(engine, 'zero_block_survey_objects'), '2', 'the pages listed 1 and 2');

    // Block 13's PUT is still held: the map must not claim it is zero, so this read goes to the store.
    const gets = store.counts.get;
    await device.read(13 * BLOCK, BLOCK);
    assert.equal(store.counts.get - gets, 1, 'block 13 is not known zero while its write is in flight');
    store.releaseAll();
    await inFlight;

    const expect = new Map<number, Buffer>([[1, filled(1)], [2, zeros], [7, filled(7)], [9, zeros], [13, filled(13)]]);
    const partial = Buffer.alloc(BLOCK);
    partial.write('partial', 100);
    expect.set(11, partial);
    for (const [block, data] of expect) assert.ok((await device.read(block * BLOCK, BLOCK)).equals(data), `block ${block}`);
    // Everything else is known zero, and the zeroed blocks too.
    const hits = Number(stat(engine, 'zero_block_cache_read_hits'));
    await device.read(2 * BLOCK, BLOCK);
    await device.read(9 * BLOCK, BLOCK);
    await device.read(200 * BLOCK, BLOCK);
    assert.equal(Number(stat(engine, 'zero_block_cache_read_hits')) - hits, 3);
    assert.equal(stat(engine, 'zero_block_cache_size'), `${BLOCKS - 4} blocks`, 'all but 1, 7, 11 and 13');
  } finally {
    store.releaseAll();
    for (const page of store.heldLists.splice(0)) page.release();
    await engine.shutdown();
  }
});

test('a failed listing marks nothing: reads and trims go to the store as without the survey', { timeout: 10_000 }, async () => {
  const store = new InstrumentedStore(await volumeWith([5, 6]));
  store.listPageSize = 1;
  // The second page of some slice fails after the first pages succeeded.
  store.failList = (startAfter) => (startAfter === key(5) ? new S3BackerError('S3B_BACKEND_IO', 'LIST: 500 Internal Error') : undefined);
  const { engine, device, logs } = await mount(store, { survey: { listBlocksThreads: 1 } });
  try {
    assert.equal(await surveyEnded(engine), 'failed');
    assert.equal(stat(engine, 'zero_block_cache_size'), '0 blocks');
    assert.ok(logs.some(([level, message]) => level === 'warn' && /survey failed.*500 Internal Error.*no block was marked zero/.test(message)), JSON.stringify(logs));
    const gets = store.counts.get;
    await device.read(40 * BLOCK, BLOCK);
    assert.equal(store.counts.get - gets, 1, 'a never-written block is still read from the store');
    await device.trim(60 * BLOCK, BLOCK);
    assert.equal(store.counts.delete, 1, 'and still deleted on trim');
  } finally {
    await engine.shutdown();
  }
});

test('shutdown during a survey is prompt, even with a listing that never answers; nothing is marked', { timeout: 10_000 }, async () => {
  const store = new InstrumentedStore(await volumeWith([1, 2, 3]));
  store.listPageSize = 1;
  // Every slice's first page answers; the next ones hang.
  store.holdList = (startAfter) => startAfter !== undefined && !startAfter.endsWith('/') && !startAfter.endsWith('~');
  const { engine, logs } = await mount(store, { survey: { progressInterval: 10 } });
  await store.waitForHeldLists(1);
  await new Promise((resolve) => setTimeout(resolve, 40));
  assert.match(stat(engine, 'zero_block_survey'), /^running \d+\.\d%$/);
  const started = Date.now();
  await engine.shutdown();
  assert.ok(Date.now() - started < 1000, `shutdown took ${Date.now() - started} ms`);
  assert.equal(stat(engine, 'zero_block_survey'), 'stopped');
  assert.equal(stat(engine, 'zero_block_cache_size'), '0 blocks');
  assert.ok(logs.some(([level, message]) => level === 'debug' && /^listBlocks: \d+ objects, \d+\.\d% of key space$/.test(message)), 'progress lines in the debug log');
  assert.ok(logs.some(([, message]) => /survey canceled/.test(message)));
  assert.equal(store.volume.has('s3backer-mounted'), false, 'a clean unmount');
  // The abandoned listing may still answer after the store closed: that changes nothing.
  for (const page of store.heldLists.splice(0)) page.release();
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(stat(engine, 'zero_block_survey'), 'stopped');
});

test('blocks a cache holds unstored at mount are never marked zero (its listBlocks hook is asked)', { timeout: 10_000 }, async () => {
  // A cache storage as a crashed mount leaves it: block 4 dirty, never uploaded.
  class LeftBehind extends MemoryStorage {
    override async open(): Promise<CacheContents> {
      await this.putDirty(4, filled(4));
      return { mountToken: undefined, blocks: [{ block: 4, dirty: true, etag: undefined }] };
    }
  }
  const store = new InstrumentedStore();
  store.hold = (op) => op === 'put';                     // the recovered block cannot be uploaded before the survey ends
  const { engine, device } = await mount(store, { plugins: [blockCachePlugin({ storage: () => new LeftBehind(), recoverDirtyBlocks: true, writeDelay: 0, retryPause: 10 })] });
  try {
    assert.equal(await surveyEnded(engine), 'completed');
    assert.equal(store.volume.has(key(4)), false);
    assert.ok((await device.read(4 * BLOCK, BLOCK)).equals(filled(4)), 'the recovered block reads its data, not zeros');
    assert.equal(stat(engine, 'zero_block_cache_size'), `${BLOCKS - 1} blocks`);
    store.releaseAll();
    store.hold = () => false;
    await device.flush();
    assert.ok(store.volume.get(key(4))!.body.equals(filled(4)));
  } finally {
    store.releaseAll();
    store.hold = () => false;
    await engine.shutdown();
  }
});

test('1 and 16 listings find the same blocks, with pages of a few keys', { timeout: 10_000 }, async () => {
  const written = Array.from({ length: 60 }, (_, i) => (i * 37) % BLOCKS);
  for (const threads of [1, 16]) {
    const store = new InstrumentedStore(await volumeWith(written));
    store.listPageSize = 7;
    const { engine, device } = await mount(store, { survey: { listBlocksThreads: threads } });
    try {
      assert.equal(await surveyEnded(engine), 'completed');
      assert.equal(stat(engine, 'zero_block_survey_objects'), String(new Set(written).size));
      assert.equal(stat(engine, 'zero_block_cache_size'), `${BLOCKS - new Set(written).size} blocks`);
      assert.ok(store.listPages >= Math.ceil(new Set(written).size / 7), `${store.listPages} pages`);
      for (const block of written) assert.ok((await device.read(block * BLOCK, BLOCK)).equals(filled(block & 0xff || 0xaa)));
    } finally {
      await engine.shutdown();
    }
  }
});

test('without listBlocks there is no survey and no survey lines; listBlocksThreads is checked', { timeout: 10_000 }, async () => {
  const { engine, store } = await mount(new InstrumentedStore(await volumeWith([1])), { survey: { listBlocks: false } });
  try {
    assert.equal(store.listPages, 0);
    assert.doesNotMatch(engine.stats.render(), /zero_block_survey/);
  } finally {
    await engine.shutdown();
  }
  assert.throws(() => zeroMapPlugin({ listBlocks: true, listBlocksThreads: 0 }), (error: unknown) => isS3BackerError(error, 'S3B_CONFIG_INVALID') && /listBlocksThreads/.test((error as Error).message));
});
