import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Engine } from '../../src/engine/engine.js';
import type { S3BackerPlugin } from '../../src/engine/plugin.js';
import type { ObjectStore, GetOptions } from '../../src/engine/object-store.js';
import type { OptionValues } from '../../src/config/options.js';
import { Stage } from '../../src/engine/stages.js';
import { isS3BackerError } from '../../src/errors/s3backer-error.js';
import { memoryPlugin } from '../../plugins/memory/index.js';
import { zeroMapPlugin } from '../../plugins/zero-map/index.js';
import { blockCachePlugin } from '../../plugins/block-cache/index.js';
import { md5ProtectPlugin, Md5ProtectedStore, Md5Cache, type Md5ProtectPluginOptions } from '../../plugins/md5-protect/index.js';
import { MemoryStore } from '../../plugins/memory/memory-store.js';
import { BlockGeometry } from '../../src/engine/block-geometry.js';
import { EventuallyConsistentStore } from '../helpers/eventually-consistent-store.js';
import { eventuallyConsistentPlugin, type EventuallyConsistentOptions } from '../helpers/eventually-consistent-store.js';
import { testConfig } from '../helpers/test-config.js';

const BLOCK = 4096;
const BLOCKS = 64;

/** What reached the store below md5-protect: each request, with when it started and ended (performance.now()). */
interface Request {
  op: 'get' | 'head' | 'put' | 'delete';
  key: string;
  ifMatch: string | undefined;
  start: number;
  end: number;
}

/**
 * Records the requests md5-protect sends (it sits at the outermost stage, this one just inside it),
 * and can hold PUTs until the test releases them.
 */
function recorder(requests: Request[], hold?: { put: (key: string) => Promise<void> }): S3BackerPlugin {
  return {
    name: 'recorder',
    apply: (engine) => engine.hooks.wrapStore.tap({ name: 'recorder', stage: Stage.STORE_OBSERVERS }, (inner: ObjectStore): ObjectStore => {
      const timed = async <T>(op: Request['op'], key: string, ifMatch: string | undefined, call: () => Promise<T>): Promise<T> => {
        const request: Request = { op, key, ifMatch, start: performance.now(), end: NaN };
        if (!key.endsWith('s3backer-mounted')) requests.push(request);
        try {
          return await call();
        } finally {
          request.end = performance.now();
        }
      };
      return {
        get kind() { return inner.kind; },
        get description() { return inner.description; },
        get supports() { return inner.supports; },
        open: () => inner.open(),
        close: () => inner.close(),
        list: (options) => inner.list(options),
        get: (key, options?: GetOptions) => timed('get', key, options?.ifMatch, () => inner.get(key, options)),
        head: (key) => timed('head', key, undefined, () => inner.head(key)),
        put: async (key, body, options) => {
          await hold?.put(key);
          return timed('put', key, undefined, () => inner.put(key, body, options));
        },
        delete: (key) => timed('delete', key, undefined, () => inner.delete(key)),
      };
    }),
  };
}

interface Setup {
  md5?: Md5ProtectPluginOptions;
  lag?: Omit<EventuallyConsistentOptions, 'lagMs'> & { lagMs: number };
  zeroMap?: boolean;
  plugins?: S3BackerPlugin[];
  config?: Partial<OptionValues>;
}

/** A memory volume of 64 blocks, optionally eventually consistent, with md5-protect when `md5` is given. */
async function mount(setup: Setup) {
  let lagging: EventuallyConsistentStore | undefined;
  const plugins: S3BackerPlugin[] = [
    memoryPlugin(),
    ...(setup.zeroMap === false ? [] : [zeroMapPlugin()]),
    ...(setup.plugins ?? []),
    ...(setup.lag ? [eventuallyConsistentPlugin(setup.lag, (store) => { lagging = store; })] : []),
    ...(setup.md5 ? [md5ProtectPlugin(setup.md5)] : []),
  ];
  const engine = Engine.create(testConfig({ store: 'memory', size: BLOCKS * BLOCK, blockSize: BLOCK, ...setup.config }), plugins);
  const device = await engine.mount();
  return { engine, device, lagging: () => lagging! };
}

/** The stats file's value for `name` (the text after the padded name). */
function stat(engine: Engine, name: string): string {
  const line = engine.stats.render().split('\n').find((l) => l.startsWith(`${name} `));
  assert.ok(line, `stats has a ${name} line`);
  return line.slice(28).trim();
}

/**
 * Every one of `blocks` blocks written with fresh data and read straight back, all blocks at once:
 * how many reads returned anything but the data just written.
 */
async function writeThenRead(device: Awaited<ReturnType<typeof mount>>['device'], blocks: number[]): Promise<number> {
  const results = await Promise.all(blocks.map(async (block) => {
    const data = randomBytes(BLOCK);
    await device.write(block * BLOCK, data);
    return (await device.read(block * BLOCK, BLOCK)).equals(data);
  }));
  return results.filter((ok) => !ok).length;
}

for (const noConditionalGet of [false, true]) {
  const how = noConditionalGet ? 'by comparing ETags (no If-Match GET)' : 'with If-Match GETs';
  test(`a read right after a write never returns stale data with md5-protect, ${how}; without it the same store does`, { timeout: 20_000 }, async () => {
    const blocks = Array.from({ length: 16 }, (_, i) => i * 3);
    const lag = { lagMs: 150, noConditionalGet };
    // Without protection: the lagging store answers with the version before each write.
    let staleWithout = 0;
    const bare = await mount({ lag });
    try {
      await writeThenRead(bare.device, blocks); // every block now has an older version to show
      await sleep(200);
      staleWithout = await writeThenRead(bare.device, blocks);
      assert.equal(staleWithout, blocks.length, 'without md5-protect every read right after a write is stale');
    } finally {
      await bare.engine.shutdown();
    }
    // With protection: the same workload; md5-protect sees the stale answers and reads again.
    const guarded = await mount({ lag, md5: { size: BLOCKS, initialRetryPause: 10, maxRetryPause: 2000 } });
    try {
      assert.equal(await writeThenRead(guarded.device, blocks), 0);
      await sleep(200);
      const start = performance.now();
      const staleWith = await writeThenRead(guarded.device, blocks);
      const elapsed = performance.now() - start;
      assert.equal(staleWith, 0, 'with md5-protect no read returns stale data');
      assert.ok(guarded.lagging().staleReads >= blocks.length, `md5-protect met stale answers (${guarded.lagging().staleReads}) and retried them`);
      // The reader waits for the store to catch up (about the lag), not for the whole retry budget.
      assert.ok(elapsed >= 150 && elapsed < 1500, `caught up in ${Math.round(elapsed)} ms`);
      console.log(`lag 150 ms, ${how}: ${staleWithout}/${blocks.length} reads stale without md5-protect, ${staleWith}/${blocks.length} with it (${guarded.lagging().staleReads} stale answers retried, all ${blocks.length} blocks read back in ${Math.round(elapsed)} ms)`);
    } finally {
      await guarded.engine.shutdown();
    }
  });
}

test('a store that never catches up within --maxRetryPause fails the read with S3B_STALE_READ naming the block', { timeout: 10_000 }, async () => {
  const { engine, device } = await mount({ lag: { lagMs: 2_000 }, md5: { size: BLOCKS, initialRetryPause: 10, maxRetryPause: 100 } });
  try {
    await device.write(3 * BLOCK, randomBytes(BLOCK));
    const start = performance.now();
    await assert.rejects(device.read(3 * BLOCK, BLOCK), (error) =>
      isS3BackerError(error, 'S3B_STALE_READ') && error.block === 3 && /^block 00000003: /.test(error.message) && /--maxRetryPause=100 ms/.test(error.message));
    const elapsed = performance.now() - start;
    assert.ok(elapsed >= 100 && elapsed < 1000, `gave up after ${Math.round(elapsed)} ms of a 100 ms budget`);
  } finally {
    await engine.shutdown();
  }
});

test('a zero write deletes the object and reads as zeros at once, even while the store still shows the old object', { timeout: 10_000 }, async () => {
  const lag = { lagMs: 150 };
  // No zero map: it would answer the zero block itself; this is about the layer below it.
  const bare = await mount({ lag, zeroMap: false });
  try {
    await bare.device.write(7 * BLOCK, randomBytes(BLOCK));
    await sleep(200);
    await bare.device.write(7 * BLOCK, Buffer.alloc(BLOCK));
    assert.ok(!(await bare.device.read(7 * BLOCK, BLOCK)).equals(Buffer.alloc(BLOCK)), 'without md5-protect the deleted object is still read');
  } finally {
    await bare.engine.shutdown();
  }
  const requests: Request[] = [];
  const guarded = await mount({ lag, zeroMap: false, md5: { size: BLOCKS }, plugins: [recorder(requests)] });
  try {
    await guarded.device.write(7 * BLOCK, randomBytes(BLOCK));
    await sleep(200);
    await guarded.device.write(7 * BLOCK, Buffer.alloc(BLOCK));
    requests.length = 0;
    assert.ok((await guarded.device.read(7 * BLOCK, BLOCK)).equals(Buffer.alloc(BLOCK)));
    assert.deepEqual(requests, [], 'answered from the table, no request');
    assert.equal(stat(guarded.engine, 'md5_cache_data_hits'), '1');
  } finally {
    await guarded.engine.shutdown();
  }
});

test('a read of a block being written is answered with the data in flight, without a request', { timeout: 10_000 }, async () => {
  const requests: Request[] = [];
  let release!: () => void;
  let held!: () => void;
  const isHeld = new Promise<void>((resolve) => { held = resolve; });
  const hold = { put: (key: string) => (key === '00000004' ? new Promise<void>((resolve) => { release = resolve; held(); }) : Promise.resolve()) };
  const { engine, device } = await mount({ md5: { size: BLOCKS }, plugins: [recorder(requests, hold)] });
  let writing: Promise<void> | undefined;
  try {
    const data = randomBytes(BLOCK);
    writing = device.write(4 * BLOCK, data);
    await isHeld;
    assert.ok((await device.read(4 * BLOCK, BLOCK)).equals(data));
    assert.deepEqual(requests.filter((r) => r.op === 'get'), []);
    assert.equal(stat(engine, 'md5_cache_data_hits'), '1');
    assert.equal(stat(engine, 'md5_cache_current_size'), '1 blocks');
    release();
    await writing;
    // Written now: the next read goes to the store, for exactly the version written.
    assert.ok((await device.read(4 * BLOCK, BLOCK)).equals(data));
    const [get] = requests.filter((r) => r.op === 'get');
    assert.ok(get?.ifMatch, 'an If-Match GET');
  } finally {
    release?.();
    await writing?.catch(() => {});
    await engine.shutdown();
  }
});

test('--minWriteDelay spaces two writes of one block; other blocks are not delayed', { timeout: 10_000 }, async () => {
  const delay = 80;
  const requests: Request[] = [];
  const { engine, device } = await mount({ md5: { size: BLOCKS, time: 1000, minWriteDelay: delay }, plugins: [recorder(requests)] });
  try {
    for (let i = 0; i < 4; i++) await device.write(5 * BLOCK, randomBytes(BLOCK));
    const start = performance.now();
    await device.write(6 * BLOCK, randomBytes(BLOCK));
    const other = performance.now() - start;
    const puts = requests.filter((r) => r.op === 'put' && r.key === '00000005');
    assert.equal(puts.length, 4);
    const gaps = puts.slice(1).map((put, i) => put.start - puts[i]!.end);
    for (const gap of gaps) assert.ok(gap >= delay, `writes of one block ${gap.toFixed(1)} ms apart, at least ${delay}`);
    assert.ok(other < delay / 2, `another block was written at once (${other.toFixed(1)} ms)`);
    const waited = Number(stat(engine, 'md5_cache_write_delays').replace(' sec', ''));
    assert.ok(waited >= (3 * delay) / 1000 - 0.005 && waited < 1, `md5_cache_write_delays ${waited} s`);
    assert.match(engine.stats.render(), /^md5_cache_write_delays {7}\d+\.\d{3} sec$/m);
    // Without md5-protect the same writes follow each other at once.
    const bareRequests: Request[] = [];
    const bare = await mount({ plugins: [recorder(bareRequests)] });
    try {
      for (let i = 0; i < 4; i++) await bare.device.write(5 * BLOCK, randomBytes(BLOCK));
      const barePuts = bareRequests.filter((r) => r.op === 'put');
      const bareGaps = barePuts.slice(1).map((put, i) => put.start - barePuts[i]!.end);
      assert.ok(Math.max(...bareGaps) < delay / 2, `unprotected gaps ${bareGaps.map((g) => g.toFixed(1)).join(', ')} ms`);
      console.log(`minWriteDelay=${delay}: gaps with md5-protect ${gaps.map((g) => g.toFixed(1)).join(', ')} ms; without ${bareGaps.map((g) => g.toFixed(2)).join(', ')} ms`);
    } finally {
      await bare.engine.shutdown();
    }
  } finally {
    await engine.shutdown();
  }
});

test('a full table makes a write of a new block wait until the oldest entry expires, and that entry is the one dropped', { timeout: 10_000 }, async () => {
  const time = 400;
  const requests: Request[] = [];
  const { engine, device } = await mount({ md5: { size: 2, time }, plugins: [recorder(requests)] });
  try {
    const t0 = performance.now();
    await device.write(0, randomBytes(BLOCK));
    await sleep(100);
    await device.write(1 * BLOCK, randomBytes(BLOCK));
    assert.equal(stat(engine, 'md5_cache_current_size'), '2 blocks');
    await device.write(2 * BLOCK, randomBytes(BLOCK));
    const waitedUntil = performance.now() - t0;
    assert.ok(waitedUntil >= time, `the third block's write waited until block 0's entry expired (${Math.round(waitedUntil)} ms after it)`);
    const full = Number(stat(engine, 'md5_cache_full_delays').replace(' sec', ''));
    assert.ok(full >= 0.25 && full < 1, `md5_cache_full_delays ${full} s`);
    assert.equal(stat(engine, 'md5_cache_current_size'), '2 blocks');
    // Block 0 was forgotten (a plain GET); blocks 1 and 2 are remembered (If-Match GETs).
    requests.length = 0;
    for (const block of [0, 1, 2]) await device.read(block * BLOCK, BLOCK);
    assert.deepEqual(requests.map((r) => [r.key, r.ifMatch !== undefined]), [['00000000', false], ['00000001', true], ['00000002', true]]);
  } finally {
    await engine.shutdown();
  }
});

test('a written block is remembered for --md5CacheTime, then read without a check', { timeout: 10_000 }, async () => {
  const requests: Request[] = [];
  const { engine, device } = await mount({ md5: { size: BLOCKS, time: 150 }, plugins: [recorder(requests)] });
  try {
    await device.write(9 * BLOCK, randomBytes(BLOCK));
    requests.length = 0;
    await device.read(9 * BLOCK, BLOCK);
    assert.equal(stat(engine, 'md5_cache_current_size'), '1 blocks');
    await sleep(200);
    assert.equal(stat(engine, 'md5_cache_current_size'), '0 blocks');
    await device.read(9 * BLOCK, BLOCK);
    assert.deepEqual(requests.map((r) => r.ifMatch !== undefined), [true, false]);
  } finally {
    await engine.shutdown();
  }
});

test('a failed write leaves the block unknown: reads wait --minWriteDelay, then read whatever the store has', { timeout: 10_000 }, async () => {
  let fail = false;
  const failing: S3BackerPlugin = {
    name: 'failing',
    apply: (engine) => engine.hooks.wrapStore.tap({ name: 'failing', stage: Stage.STORE_FAULTS }, (inner: ObjectStore): ObjectStore => Object.assign(Object.create(inner) as ObjectStore, {
      put: async (key: string, body: Buffer, options: object) => {
        if (fail && key === '00000008') throw new Error('connection reset');
        return inner.put(key, body, options);
      },
    })),
  };
  const { engine, device } = await mount({ md5: { size: BLOCKS, time: 1000, minWriteDelay: 100 }, plugins: [failing] });
  try {
    const first = randomBytes(BLOCK);
    await device.write(8 * BLOCK, first);
    await sleep(120);
    fail = true;
    await assert.rejects(device.write(8 * BLOCK, randomBytes(BLOCK)), /connection reset/);
    fail = false;
    const start = performance.now();
    assert.ok((await device.read(8 * BLOCK, BLOCK)).equals(first));
    assert.ok(performance.now() - start >= 95, 'the read waited for the failed write to settle');
  } finally {
    await engine.shutdown();
  }
});

test('stats: the C tool\'s four md5_cache lines, in its order and format; unlinking resets counters but not the size', { timeout: 10_000 }, async () => {
  const { engine, device } = await mount({ md5: { size: BLOCKS } });
  try {
    await device.write(0, randomBytes(BLOCK));
    await device.write(BLOCK, Buffer.alloc(BLOCK, 1));
    await device.write(2 * BLOCK, Buffer.alloc(BLOCK));
    const lines = engine.stats.render().split('\n').filter((line) => line.startsWith('md5_'));
    assert.deepEqual(lines.map((line) => line.slice(0, 29)), [
      'md5_cache_current_size       ', 'md5_cache_data_hits          ', 'md5_cache_full_delays        ', 'md5_cache_write_delays       ',
    ]);
    assert.match(lines[0]!, /^md5_cache_current_size {7}3 blocks$/);
    assert.match(lines[2]!, /^md5_cache_full_delays {8}0\.000 sec$/);
    engine.stats.reset();
    assert.equal(stat(engine, 'md5_cache_current_size'), '3 blocks');
    assert.equal(stat(engine, 'md5_cache_data_hits'), '0');
  } finally {
    await engine.shutdown();
  }
});

test('behind a block cache: evicted blocks read back through md5-protect are never stale; without it they are', { timeout: 20_000 }, async () => {
  const blocks = Array.from({ length: 16 }, (_, i) => i);
  const cache = () => blockCachePlugin({ size: 4, threads: 2, writeDelay: 0, readAhead: 0 });
  const run = async (md5: boolean) => {
    const { engine, device, lagging } = await mount({ lag: { lagMs: 300 }, plugins: [cache()], ...(md5 ? { md5: { size: BLOCKS, initialRetryPause: 10, maxRetryPause: 3000 } } : {}) });
    try {
      const images = blocks.map(() => randomBytes(BLOCK));
      for (const block of blocks) await device.write(block * BLOCK, images[block]!);
      await device.flush();
      let stale = 0;
      // The cache holds 4 of them: the others are read from the store, within the lag.
      for (const block of blocks) if (!(await device.read(block * BLOCK, BLOCK)).equals(images[block]!)) stale++;
      return { stale, retried: lagging().staleReads };
    } finally {
      await engine.shutdown();
    }
  };
  const without = await run(false);
  const withMd5 = await run(true);
  console.log(`behind a 4-block cache, 16 blocks read back: ${without.stale} stale without md5-protect; ${withMd5.stale} with it (${withMd5.retried} stale answers retried)`);
  assert.ok(without.stale >= 8, `without md5-protect ${without.stale} of 16 reads were stale`);
  assert.equal(withMd5.stale, 0);
  assert.ok(withMd5.retried > 0);
});

test('abort() ends a read pausing on a stale store at once, with the abort\'s reason, and passes the abort on', { timeout: 10_000 }, async () => {
  const aborted: Error[] = [];
  const memory = Object.assign(new MemoryStore(), { abort: (reason: Error) => { aborted.push(reason); } });
  const store = new Md5ProtectedStore(new EventuallyConsistentStore(memory, { lagMs: 5_000 }), { error() {}, warn() {}, info() {}, debug() {} });
  try {
    await store.open();
    store.protect(new BlockGeometry(16 * BLOCK, BLOCK), new Md5Cache(16, 0), { minWriteDelay: 0, initialRetryPause: 50, maxRetryPause: 30_000 });
    await store.put('00000001', Buffer.alloc(BLOCK, 1));
    const reading = store.get('00000001');
    await sleep(100);
    const start = performance.now();
    const reason = new Error('unmount gave up');
    store.abort(reason);
    await assert.rejects(reading, (error) => error === reason);
    assert.ok(performance.now() - start < 50, 'ended at once');
    assert.deepEqual(aborted, [reason]);
  } finally {
    await store.close();
  }
});
