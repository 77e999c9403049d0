// Commands the benchmark runs (dd, cp, fio, mkfs, losetup, mount, shell pipelines ...), timed, and
// killed if the run is interrupted, so a mount is never left busy. Each runs in its own process
// group, killed as a group: fio's job processes and a pipeline's `find | xargs cat` die with it.
import { spawn } from 'node:child_process';
import { cleanup, killGroup } from './cleanup-stack.js';

export interface TrackedResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit, seconds. */
  seconds: number;
}

export interface RunOptions {
  timeoutMs?: number;
  /** A cleanup step (umount, losetup -d): runs after an interrupt too, and is never killed by it. */
  forCleanup?: boolean;
}

export function runTracked(command: string, args: readonly string[], options: RunOptions = {}): Promise<TrackedResult> {
  if (!options.forCleanup) cleanup.check();
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    if (!options.forCleanup) cleanup.track(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr = (stderr + chunk).slice(-16_384); });
    const timer = setTimeout(() => killGroup(child), options.timeoutMs ?? 900_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? null : code), stdout, stderr, seconds: Number(process.hrtime.bigint() - started) / 1e9 });
    });
  });
}

/** Like runTracked, but a failure (non-zero exit, signal) rejects with the command's output. */
export async function mustRunTracked(command: string, args: readonly string[], options: RunOptions = {}): Promise<TrackedResult> {
  const result = await runTracked(command, args, options);
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.code ?? 'on a signal'}:\n${result.stdout}${result.stderr}`);
  return result;
}
