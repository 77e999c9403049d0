import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { mustRun } from '../../test/helpers/run-command.js';
import type { CrashVolume } from './crash-volume.js';
import type { S3backerProcess } from '../../test/helpers/s3backer-process.js';
import { verifyJournal, type VerifyFigures } from './journal-verifier.js';
import { loadJournal } from './write-journal.js';
import type { CrashLoopOptions } from './crash-loop-options.js';

const WRITER = fileURLToPath(new URL('./checksummed-writer.js', import.meta.url));
/** --blockCacheWriteDelay of each round, drawn from these: write-through-like, the default, long enough for the kill to find many dirty blocks. */
const WRITE_DELAYS = [0, 250, 1000, 5000] as const;
/** The writer stops by itself after this long, should the kill never come. */
const WRITER_MAX_MS = 60_000;

export type RoundKind = 'write-kill' | 'recovery-kill' | 'final' | 'cold';

export interface RoundResult {
  round: number;
  kind: RoundKind;
  writeDelay: number;
  /** Dirty blocks s3backer found in the cache file at start, left by the previous kill. */
  recoveredDirtyBlocks: number;
  /** ms from start (recovery-kill) or from the writer being ready (write-kill) to the kill. */
  killAfterMs: number | undefined;
  fsckClean: boolean | undefined;
  verify: VerifyFigures | undefined;
  /** The writer's last line: where the kill stopped it. */
  writer: string | undefined;
  durationMs: number;
  /** What the crash damaged: e2fsck findings, fsynced writes lost. */
  failures: string[];
  /** Steps that could not run at all (s3backer would not start, a mount refused): no verdict on the data. */
  errors: string[];
}

export interface CrashContext {
  options: CrashLoopOptions;
  volume: CrashVolume;
  journalPath: string;
  /** s3backer's arguments for a round with this write delay; `cacheFile: false` for the cold check. */
  args(writeDelay: number, cacheFile?: boolean): string[];
}

/** How many dirty blocks s3backer said it recovers from the cache file (plugins/block-cache: "recovering N dirty blocks"). */
export function recoveredDirtyBlocks(output: string): number {
  return Number(/recovering (\d+) dirty blocks/.exec(output)?.[1] ?? 0);
}

/**
 * What a power cut leaves must pass: mount (the kernel replays ext4's journal, as at boot after a
 * power cut), unmount cleanly, then `e2fsck -fn` must find nothing. Running e2fsck -fn on the
 * unreplayed journal instead would report what the replay repairs; -fy would repair, and hide, the
 * damage we are looking for. Then mount again and check everything the journal says was fsynced.
 */
async function checkAfterRecovery(context: CrashContext, result: RoundResult): Promise<void> {
  const { volume } = context;
  await volume.mount();
  await volume.unmount();
  const fsck = await volume.fsck();
  result.fsckClean = fsck.clean;
  if (!fsck.clean) result.failures.push(`e2fsck -fn after journal replay is not clean:\n${fsck.output}`);
  await volume.mount();
  result.verify = await verifyJournal(volume.paths.ext4Dir, loadJournal(context.journalPath));
  result.failures.push(...result.verify.failures);
}

/**
 * One round: start s3backer with the cache file the last kill left (it recovers its dirty
 * blocks), check the file system and the journal, run the writer, and `kill -9` s3backer at a
 * random moment; or, in a share of rounds, kill it while it is still recovering.
 */
export async function crashRound(context: CrashContext, round: number, random: () => number): Promise<RoundResult> {
  const { options, volume } = context;
  const started = performance.now();
  const writeDelay = WRITE_DELAYS[Math.floor(random() * WRITE_DELAYS.length)]!;
  const firstRound = loadJournal(context.journalPath).rounds === 0;
  const kind: RoundKind = !firstRound && random() < options.recoveryKillShare ? 'recovery-kill' : 'write-kill';
  const result: RoundResult = {
    round, kind, writeDelay, recoveredDirtyBlocks: 0, killAfterMs: undefined, fsckClean: undefined, verify: undefined, writer: undefined, durationMs: 0, failures: [], errors: [],
  };
  let proc: S3backerProcess | undefined;
  try {
    proc = await volume.start(context.args(writeDelay));
    if (kind === 'recovery-kill') {
      result.killAfterMs = Math.floor(random() * 300);
      await sleep(result.killAfterMs);
      return result;
    }
    if (firstRound) await mustRun('mkfs.ext4', ['-q', '-F', '-E', 'nodiscard', volume.diskFile]);
    await checkAfterRecovery(context, result);
    if (result.failures.length > 0) return result;
    const runMs = options.minRunMs + Math.floor(random() * (options.maxRunMs - options.minRunMs + 1));
    result.writer = await runWriterUntilKilled(context, round, Math.floor(random() * 4294967296), runMs);
    result.killAfterMs = runMs;
    return result;
  } catch (error) {
    // A step that could not even run (no mount, a refused start) fails the round, saying which.
    result.errors.push(`round ${round} could not complete: ${error instanceof Error ? error.message : String(error)}`);
    return result;
  } finally {
    await volume.cleanUp();
    // Read at the end: the line may arrive just after the mount point appeared.
    result.recoveredDirtyBlocks = recoveredDirtyBlocks(proc?.output ?? '');
    result.durationMs = performance.now() - started;
  }
}

/** Start the writer; once it is ready, wait `runMs` and kill s3backer under it; its last line says where it stopped. */
async function runWriterUntilKilled(context: CrashContext, round: number, seed: number, runMs: number): Promise<string> {
  const { options, volume } = context;
  const writer = spawn(process.execPath, [WRITER, volume.paths.ext4Dir, context.journalPath, String(round), String(seed), String(options.files), String(options.fileChunks), String(WRITER_MAX_MS)],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  writer.stdout.on('data', (chunk) => { output += chunk; });
  writer.stderr.on('data', (chunk) => { output += chunk; });
  const exited = new Promise<void>((resolve) => writer.on('close', () => resolve()));
  try {
    const deadline = Date.now() + 60_000;
    while (!/^ready$/m.test(output)) {
      if (writer.exitCode !== null || Date.now() > deadline) throw new Error(`the writer did not get ready:\n${output}`);
      await sleep(20);
    }
    await sleep(runMs);
    await volume.kill();
    // The disk is gone: the writer's next fsync (or write) fails and it stops.
    // Cancelled once the writer is gone: a pending timer would keep this process alive for nothing.
    const patience = new AbortController();
    const stopped = await Promise.race([exited.then(() => true), sleep(30_000, false, { signal: patience.signal }).catch(() => true)]);
    patience.abort();
    if (!stopped) writer.kill('SIGKILL');
    await exited;
    return output.trim().split('\n').at(-1) ?? '';
  } finally {
    if (writer.exitCode === null && writer.signalCode === null) {
      writer.kill('SIGKILL');
      await exited;
    }
  }
}

/**
 * After the last round: recover once more and stop cleanly (exit status 0, every dirty block
 * stored), then start with no cache file at all, so every block comes from the store itself,
 * and check again.
 */
export async function finalRounds(context: CrashContext, round: number): Promise<RoundResult[]> {
  const results: RoundResult[] = [];
  for (const kind of ['final', 'cold'] as const) {
    const started = performance.now();
    const result: RoundResult = {
      round, kind, writeDelay: 250, recoveredDirtyBlocks: 0, killAfterMs: undefined, fsckClean: undefined, verify: undefined, writer: undefined, durationMs: 0, failures: [], errors: [],
    };
    results.push(result);
    let proc: S3backerProcess | undefined;
    try {
      proc = await context.volume.start(context.args(result.writeDelay, kind === 'final'));
      await checkAfterRecovery(context, result);
      const code = await context.volume.stop();
      if (code !== 0) result.errors.push(`s3backer exited ${code} at a clean unmount:\n${proc.output.split('\n').slice(-20).join('\n')}`);
    } catch (error) {
      result.errors.push(`the ${kind} check could not complete: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      await context.volume.cleanUp();
      result.recoveredDirtyBlocks = recoveredDirtyBlocks(proc?.output ?? '');
      result.durationMs = performance.now() - started;
    }
    if (result.failures.length > 0 || result.errors.length > 0) break;
  }
  return results;
}
