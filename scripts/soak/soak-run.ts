import { performance } from 'node:perf_hooks';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3BackerPlugin } from '../../src/engine/plugin.js';
import type { LogSink } from '../../src/engine/logger.js';
import { chaosPlugin, CHAOS_FAULT_KINDS, type ChaosFaultKind } from '../../plugins/chaos/index.js';
import { seededRandom } from '../../plugins/chaos/seeded-random.js';
import { createSoakBackend } from './soak-backend.js';
import { mountCheckEngine, mountSoakEngine, soakChaosOptions } from './soak-engine.js';
import { RangeOracle } from './range-oracle.js';
import { BlockRangeLocks } from './block-range-locks.js';
import { OperationGate } from './operation-gate.js';
import { RandomDataPool } from './random-data-pool.js';
import { SoakWorkload, MAX_RANGE_BLOCKS } from './soak-workload.js';
import { SoakTally, type KindCount } from './soak-tally.js';
import { runWorker } from './soak-worker.js';
import { checkStore } from './store-check.js';
import { OutageSchedule } from './outage-schedule.js';
import { formatMismatch, type Mismatch } from './mismatch.js';
import type { SoakOptions } from './soak-options.js';

export interface SoakHooks {
  /** Progress and report lines (default: nowhere). */
  print?: (line: string) => void;
  /** Plugins added to the engine under test only (never to the durability check's): a test's deliberately broken store. */
  extraPlugins?: readonly S3BackerPlugin[];
}

export interface SoakResult {
  seed: number;
  options: SoakOptions;
  durationMs: number;
  operations: number;
  byKind: Record<string, KindCount>;
  /** Failed operations by error code: what the faults did to callers after retries gave up. */
  failures: Record<string, number>;
  bytesWritten: number;
  bytesRead: number;
  /** Bytes compared with the oracle and found right: reads, checkpoints and the final remount. */
  bytesVerified: number;
  checkpointsVerified: number;
  checkpointsSkipped: number;
  faults: { requests: number; injected: Record<ChaosFaultKind, number>; outagesStarted: number };
  /** Store requests the retry layer sent again. */
  retries: number;
  /** Blocks left with unknown bytes (a failed write not rewritten since); they were checked only where known. */
  unknownBlocksAtEnd: number;
  /** Every mismatch found, in every phase: acknowledged writes lost or corrupted. Must be 0. */
  lostWrites: number;
  mismatches: Mismatch[];
  /** Blocks of the volume that, re-opened in a fresh engine without cache, did not hold their last acknowledged write. */
  lostAtRemount: number;
  shutdownError: string | undefined;
  logLines: Record<string, number>;
  /** The engine's stats file at the end (the C tool's format). */
  engineStats: string;
  passed: boolean;
}

/** How often the final flush is tried before the shutdown's own retries take over. */
const FINAL_FLUSH_ATTEMPTS = 10;

/**
 * The soak (GitHub issue 11), after the C tool's tester.c: many workers do random reads, writes
 * and trims through the real engine (block cache over retry layer over chaos store over the
 * backend), every read checked against the oracle; checkpoints stop the workers, flush, and compare
 * the store itself; at the end everything is flushed, the engine shut down, and a fresh engine
 * without cache re-reads every block of the volume.
 */
export async function runSoak(options: SoakOptions, hooks: SoakHooks = {}): Promise<SoakResult> {
  const print = hooks.print ?? (() => {});
  const { seed } = options;
  const started = performance.now();
  const deadline = options.minutes === undefined ? Infinity : started + options.minutes * 60_000;
  const tally = new SoakTally();
  const log: LogSink = (level, source, message) => {
    tally.logged(level, source);
    if (options.verbose) print(`  [${level} ${source}] ${message}`);
  };
  const backend = await createSoakBackend(options.backend);
  // --cacheFile: the engine under test keeps its cache in a file of its own, removed at the end.
  const cacheDir = options.cacheFile ? await mkdtemp(join(tmpdir(), 's3backer-soak-cache-')) : undefined;
  const engineOptions: SoakOptions = cacheDir ? { ...options, s3backer: { ...options.s3backer, blockCacheFile: join(cacheDir, 'cache') } } : options;
  const chaos = chaosPlugin(soakChaosOptions(options.faults, seed));
  const outages = new OutageSchedule(chaos, options.faults.outageEvery, options.faults.outageMs);
  const oracle = new RangeOracle(options.blockSize, options.blocks);
  let shutdownError: string | undefined;
  let engineStats = '';
  let retries = 0;
  let lostAtRemount = 0;
  let progress: NodeJS.Timeout | undefined;
  print(`soak: seed ${seed}, ${options.workers} workers, ${options.ops === Infinity ? 'no operation bound' : `${options.ops} operations`}${options.minutes === undefined ? '' : `, at most ${options.minutes} min`}; ` +
    `${options.blocks} blocks of ${options.blockSize} bytes, block cache ${options.cacheSize} blocks${options.cacheFile ? ' in a cache file' : ''}, ${options.backend} store`);
  try {
    const { engine, device } = await mountSoakEngine(engineOptions, backend, chaos, hooks.extraPlugins ?? [], log);
    const raw = backend.rawStore();
    await raw.open();
    let shutDown = false;
    try {
      const gate = new OperationGate();
      const checkpoint = async (what: string): Promise<boolean> => {
        try {
          await device.flush();
        } catch {
          tally.checkpointsSkipped++;
          return false;
        }
        for (const mismatch of await checkStore(engine, raw, oracle, `checkpoint ${what}: the store after a flush with no operation in flight`)) tally.mismatch(mismatch);
        tally.checkpointsVerified++;
        return true;
      };
      let nextCheckpoint = options.checkpointEvery || Infinity;
      const more = () => tally.started < options.ops && performance.now() < deadline && tally.mismatchCount === 0;
      const between = async () => {
        if (tally.completed < nextCheckpoint || gate.quieting) return;
        nextCheckpoint += options.checkpointEvery;
        await gate.quiet(() => checkpoint(`at ${tally.completed} operations`));
      };
      const pool = new RandomDataPool(seed ^ 0x5eed5eed, MAX_RANGE_BLOCKS * options.blockSize);
      const geometry = { blockSize: options.blockSize, numBlocks: options.blocks };
      const context = { device, oracle, locks: new BlockRangeLocks(), gate, tally, more, between };
      if (options.progressEvery > 0) {
        let lastCount = 0;
        let lastAt = started;
        progress = setInterval(() => {
          const now = performance.now();
          const rate = ((tally.completed - lastCount) * 1000) / (now - lastAt);
          [lastCount, lastAt] = [tally.completed, now];
          const failed = [...tally.byLabel.values()].reduce((sum, count) => sum + count.failed, 0);
          const injected = CHAOS_FAULT_KINDS.filter((kind) => kind !== 'delay').reduce((sum, kind) => sum + chaos.counters.injected[kind], 0);
          print(`[${((now - started) / 1000).toFixed(0).padStart(5)}s] ${tally.completed} operations (${rate.toFixed(0)}/s), ${failed} failed, ` +
            `${tally.checkpointsVerified} checkpoints, ${injected} faults injected, ${outages.started} outages, ${tally.mismatchCount} mismatches`);
        }, options.progressEvery * 1000);
        progress.unref();
      }
      outages.start();
      await Promise.all(Array.from({ length: options.workers }, (_, index) =>
        runWorker(index, new SoakWorkload(seededRandom((seed + Math.imul(index + 1, 0x9e3779b9)) >>> 0), geometry, pool), context)));
      outages.stop();
      clearInterval(progress);
      // Everything acknowledged must now reach the store: flush (injected errors may fail a few
      // tries; the cache keeps the blocks and tries again), then compare the store itself.
      if (tally.mismatchCount === 0) {
        let flushed = false;
        for (let attempt = 1; attempt <= FINAL_FLUSH_ATTEMPTS && !flushed; attempt++) flushed = await checkpoint('final');
        if (!flushed) print(`soak: the final flush failed ${FINAL_FLUSH_ATTEMPTS} times; the shutdown keeps trying`);
      }
      retries = Number(/^store_num_retries\s+(\d+)$/m.exec(engine.stats.render())?.[1] ?? 0);
      engineStats = engine.stats.render();
      shutDown = true;
      await engine.shutdown().catch((error: unknown) => { shutdownError = error instanceof Error ? error.message : String(error); });
    } finally {
      clearInterval(progress);
      outages.stop();
      if (!shutDown) await engine.shutdown().catch(() => {});
      await raw.close();
    }

    // The durability check: a fresh engine, no cache, no faults, reads every block.
    const check = await mountCheckEngine(options, backend, () => {});
    try {
      for (let block = 0; block < options.blocks; block++) {
        const data = await check.device.read(block * options.blockSize, options.blockSize);
        const mismatch = oracle.checkBlock('durability', block, data, 'a fresh engine without cache over the same store, after shutdown');
        if (mismatch) {
          lostAtRemount++;
          tally.mismatch(mismatch);
        }
      }
    } finally {
      await check.engine.shutdown();
    }
  } finally {
    await backend.dispose();
    if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
  }
  const result: SoakResult = {
    seed, options, durationMs: performance.now() - started,
    operations: tally.completed,
    byKind: Object.fromEntries([...tally.byLabel].sort(([a], [b]) => a.localeCompare(b))),
    failures: Object.fromEntries(tally.failures),
    bytesWritten: tally.bytesWritten, bytesRead: tally.bytesRead, bytesVerified: oracle.bytesVerified,
    checkpointsVerified: tally.checkpointsVerified, checkpointsSkipped: tally.checkpointsSkipped,
    faults: { requests: chaos.counters.requests, injected: { ...chaos.counters.injected }, outagesStarted: outages.started },
    retries,
    unknownBlocksAtEnd: oracle.unknownBlocks(),
    lostWrites: tally.mismatchCount,
    mismatches: tally.mismatches,
    lostAtRemount,
    shutdownError,
    logLines: Object.fromEntries(tally.logLines),
    engineStats,
    passed: tally.mismatchCount === 0,
  };
  for (const mismatch of result.mismatches) print(formatMismatch(mismatch, seed));
  return result;
}
