// One measured step through a mount: the stats file's counters, the CPU of s3backer and the
// server, and s3backer's peak RSS sampled right before and right after it, so mount-time requests
// (mounted flag, block-0 probe), startup CPU (loading the SDK) and shutdown are not counted in it.
import { CpuMeter, resetPeakRss, statusMiB } from './proc-stats.js';
import type { Counters } from './s3backer-mount.js';

/** What a step is measured through: a FUSE mount or an NBD export (s3backer-mount.ts, s3backer-nbd.ts). */
export interface MeasuredProcess {
  pid: number;
  stats(): Promise<Counters>;
}

export interface PhaseFigures {
  /** The workload's figure (MB/s, IOPS, files/s: the caller's unit). */
  value: number;
  seconds: number;
  deltas: Counters;
  /** Counters right after the step (e.g. block_cache_dirty_ratio: 0 means everything is stored). */
  after: Counters;
  cpu: Record<string, { seconds: number; cores: number; systemSeconds?: number }>;
  /** s3backer's VmHWM right after the step, MiB: its peak during the step when the reset worked. */
  peakRssMiB: number;
  peakCoversStepOnly: boolean;
  /** The step on the monotonic clock, µs (to cut a --cpu-prof profile to it). */
  window: { fromUs: number; toUs: number };
}

export async function measuredPhase(mount: MeasuredProcess, serverPids: Record<string, number>, work: () => Promise<{ value: number; seconds: number }>): Promise<PhaseFigures> {
  const before = await mount.stats();
  const peakCoversStepOnly = resetPeakRss(mount.pid);
  const meter = new CpuMeter({ s3backer: mount.pid, ...serverPids });
  const fromUs = Number(process.hrtime.bigint() / 1000n);
  const { value, seconds } = await work();
  const toUs = Number(process.hrtime.bigint() / 1000n);
  const { cpu } = meter.stop();
  const peakRssMiB = statusMiB(mount.pid, 'VmHWM') ?? NaN;
  const after = await mount.stats();
  const deltas: Counters = {};
  for (const [name, value] of Object.entries(after)) deltas[name] = value - (before[name] ?? 0);
  return { value, seconds, deltas, after, cpu, peakRssMiB, peakCoversStepOnly, window: { fromUs, toUs } };
}
