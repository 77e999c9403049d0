// Timing and CPU for the in-process codec benchmark: a step is repeated over all its blocks until
// it has run for a minimum time (fast codecs finish 64 MiB in tens of ms, too short to time on a
// shared machine), and its CPU is split into the main (JS) thread and every other thread of this
// process (libuv's pool, where async zlib, lz4-napi and WebCrypto run; V8's GC helpers).
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** CPU seconds the whole machine spent busy (/proc/stat: all CPUs, everything but idle and iowait). */
function machineBusySeconds(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return (fields.slice(0, 8).reduce((sum, value) => sum + value, 0) - fields[3]! - fields[4]!) / CLOCK_TICKS;
}

/** CPU time of this process's main thread in ns (/proc/self/task/PID/schedstat: on-CPU time, ns resolution). */
function mainThreadNs(): number {
  try {
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]);
  } catch {
    return NaN;
  }
}

export interface Measured {
  /** Plaintext MB/s (10^6 B/s). */
  mbps: number;
  seconds: number;
  /** Plaintext bytes moved (passes × blocks × block size). */
  bytes: number;
  passes: number;
  /** Process CPU over the step / wall time: all threads. */
  cores: number;
  /** The main (JS) thread's share of `cores`. */
  mainCores: number;
  /** Cores used by everything else on the machine meanwhile (other users, other processes): how disturbed the figure is. */
  outsideCores: number;
}

/**
 * Run `pass` (one pass over all blocks, `bytesPerPass` bytes) until `minSeconds` have passed, at
 * least once.
 */
export async function measure(bytesPerPass: number, minSeconds: number, pass: () => Promise<void> | void): Promise<Measured> {
  const cpu0 = process.cpuUsage();
  const main0 = mainThreadNs();
  const machine0 = machineBusySeconds();
  const t0 = process.hrtime.bigint();
  let passes = 0;
  let seconds = 0;
  do {
    await pass();
    passes++;
    seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  } while (seconds < minSeconds);
  const cpu = process.cpuUsage(cpu0);
  const mainSeconds = (mainThreadNs() - main0) / 1e9;
  const machineSeconds = machineBusySeconds() - machine0;
  const bytes = passes * bytesPerPass;
  const cores = (cpu.user + cpu.system) / 1e6 / seconds;
  return { mbps: bytes / seconds / 1e6, seconds, bytes, passes, cores, mainCores: mainSeconds / seconds, outsideCores: Math.max(0, machineSeconds / seconds - cores) };
}

/** `count` jobs `job(i)`, `inFlight` at a time, in index order. */
export async function inFlight(inFlightCount: number, count: number, job: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await job(next++);
  };
  await Promise.all(Array.from({ length: Math.min(inFlightCount, count) }, worker));
}
