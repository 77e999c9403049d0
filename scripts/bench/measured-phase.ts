// One measured step through a mount: the stats file's counters and the CPU of s3backer and s3rver
// sampled right before and right after it, so mount-time requests (mounted flag, block-0 probe),
// startup CPU (loading the SDK) and shutdown are not counted in it.
import { CpuMeter } from './proc-stats.js';
import type { Counters, S3backerMount } from './s3backer-mount.js';

export interface PhaseFigures {
  mbps: number;
  seconds: number;
  deltas: Counters;
  /** Counters right after the step (e.g. block_cache_dirty_ratio: 0 means everything is stored). */
  after: Counters;
  cpu: Record<string, { seconds: number; cores: number }>;
  /** The step on the monotonic clock, µs (to cut a --cpu-prof profile to it). */
  window: { fromUs: number; toUs: number };
}

export async function measuredPhase(mount: S3backerMount, s3rverPid: number | undefined, work: () => Promise<{ mbps: number; seconds: number }>): Promise<PhaseFigures> {
  const before = await mount.stats();
  const meter = new CpuMeter({ s3backer: mount.pid, ...(s3rverPid === undefined ? {} : { s3rver: s3rverPid }) });
  const fromUs = Number(process.hrtime.bigint() / 1000n);
  const { mbps, seconds } = await work();
  const toUs = Number(process.hrtime.bigint() / 1000n);
  const { cpu } = meter.stop();
  const after = await mount.stats();
  const deltas: Counters = {};
  for (const [name, value] of Object.entries(after)) deltas[name] = value - (before[name] ?? 0);
  return { mbps, seconds, deltas, after, cpu, window: { fromUs, toUs } };
}
