import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { seededRandom } from '../../plugins/chaos/seeded-random.js';
import { CrashVolume } from './crash-volume.js';
import { crashRound, finalRounds, type CrashContext, type RoundResult } from './crash-round.js';
import type { CrashLoopOptions } from './crash-loop-options.js';

export interface CrashLoopResult {
  seed: number;
  options: CrashLoopOptions;
  rounds: RoundResult[];
  durationMs: number;
  /** Where the bucket, cache file and journal are (removed after a passing run unless --keep). */
  work: string;
  kept: boolean;
  passed: boolean;
}

/** One line per round, for the progress output. */
export function formatRound(result: RoundResult): string {
  const verify = result.verify;
  return `round ${String(result.round).padStart(3)} ${result.kind.padEnd(13)} writeDelay ${String(result.writeDelay).padStart(4)} ms, ` +
    `recovered ${result.recoveredDirtyBlocks} dirty blocks` +
    (result.fsckClean === undefined ? '' : `, e2fsck ${result.fsckClean ? 'clean' : 'NOT CLEAN'}`) +
    (verify ? `, ${verify.chunks} fsynced chunks verified (${verify.newer} newer, ${verify.torn} torn) in ${verify.files} files` : '') +
    (result.killAfterMs === undefined ? '' : `, kill after ${result.killAfterMs} ms`) +
    (result.writer ? ` [writer ${result.writer}]` : '') +
    ` (${(result.durationMs / 1000).toFixed(1)} s)` +
    (verify && verify.tornDetails.length > 0 ? `\n  torn (allowed): ${verify.tornDetails.join('\n  torn (allowed): ')}` : '') +
    (result.failures.length > 0 ? `\n  FAILED:\n  ${result.failures.join('\n  ')}` : '') +
    (result.errors.length > 0 ? `\n  COULD NOT COMPLETE:\n  ${result.errors.join('\n  ')}` : '');
}

/**
 * The crash loop of GitHub issue 11: ext4 on s3backer (dir store, cache file), a checksummed
 * writer that journals what each completed fsync covered, `kill -9` of s3backer at random moments,
 * recovery from the cache file in a new process, and after each recovery: e2fsck clean and every
 * fsynced chunk intact. Stops at the first failure and keeps the work directory for a post-mortem.
 */
export async function runCrashLoop(options: CrashLoopOptions, print: (line: string) => void = () => {}): Promise<CrashLoopResult> {
  const started = performance.now();
  const work = await mkdtemp(join(tmpdir(), 's3backer-crash-loop-'));
  const paths = { fuseDir: join(work, 'fuse'), ext4Dir: join(work, 'ext4') };
  const bucket = join(work, 'bucket');
  await Promise.all([mkdir(paths.fuseDir), mkdir(paths.ext4Dir), mkdir(bucket)]);
  const volume = new CrashVolume(paths, options.discard ? ['discard'] : []);
  const context: CrashContext = {
    options, volume, journalPath: join(work, 'journal.jsonl'),
    args: (writeDelay, cacheFile = true) => [
      '--test', ...(options.testErrors ? ['--test-errors'] : []),
      `--size=${options.size}`, `--blockSize=${options.blockSize}`,
      `--blockCacheSize=${options.cacheSize}`, `--blockCacheWriteDelay=${writeDelay}`,
      ...(cacheFile ? [`--blockCacheFile=${join(work, 'cache')}`] : []),
      bucket,
    ],
  };
  print(`crash loop: seed ${options.seed}, ${options.rounds} rounds, ${options.size} volume of ${options.blockSize} blocks, cache ${options.cacheSize} blocks in a cache file, ` +
    `dir store in ${bucket}${options.testErrors ? ' with --test-errors' : ''}, ext4${options.discard ? ' -o discard' : ''}`);
  const rounds: RoundResult[] = [];
  const failed = () => rounds.some((round) => round.failures.length > 0 || round.errors.length > 0);
  try {
    for (let round = 1; round <= options.rounds && !failed(); round++) {
      const result = await crashRound(context, round, seededRandom((options.seed + Math.imul(round, 0x9e3779b9)) >>> 0));
      rounds.push(result);
      print(formatRound(result));
    }
    if (!failed()) {
      for (const result of await finalRounds(context, options.rounds + 1)) {
        rounds.push(result);
        print(formatRound(result));
      }
    }
  } finally {
    await volume.cleanUp();
  }
  const passed = !failed() && rounds.some((round) => round.kind === 'cold');
  const kept = options.keep || !passed;
  if (!kept) await rm(work, { recursive: true, force: true });
  return { seed: options.seed, options, rounds, durationMs: performance.now() - started, work, kept, passed };
}
