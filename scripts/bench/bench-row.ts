// One row of the benchmark: a workload on one store at one block size, its figure next to the
// same-run ceiling that bounds it (where there is one), the S3 requests it issued against the
// blocks it touched, and what it cost the s3backer process.
import type { ProfileSummary } from './cpu-profile-summary.js';

export type Unit = 'MB/s' | 'IOPS' | 'files/s';

export interface CpuFigure {
  seconds: number;
  cores: number;
  /** For the measured processes: the part spent in the kernel (system calls: /dev/fuse, sockets, page faults). */
  systemSeconds?: number;
}

/** What bounds a row from above, measured in the same run right before the rows it bounds. */
export interface Ceiling {
  name: string;
  value: number;
  unit: Unit;
  seconds: number;
  cpu: Record<string, CpuFigure>;
}

/**
 * The requests check: a workload should issue no more requests than the blocks it touches (one GET
 * per block read or patched, one PUT or DELETE per block written). `rule` says what was compared.
 */
export interface RequestsCheck {
  puts: number;
  gets: number;
  deletes: number;
  /** Blocks the step touched, when computable; `exact: false` means a lower bound (ext4 metadata not counted). */
  touched?: { blocks: number; exact: boolean; how: string };
  rule: string;
  /** true: within the rule; false: more requests than it allows; undefined: not decidable (no exact count). */
  ok: boolean | undefined;
  /** With ok false: how many requests more than the rule allows (the largest excess of its comparisons). */
  excess?: number;
}

export interface BenchRow {
  /** Stable identity: `<store>/<block size>/<workload>`. */
  id: string;
  /** Producer id + step, e.g. `dd-write`, `files-untar`. */
  workload: string;
  title: string;
  /** `s3rver`, `radosgw` or `memory`. */
  store: string;
  blockSize: number;
  value: number;
  unit: Unit;
  seconds: number;
  ceiling?: { name: string; value: number; unit: Unit };
  ratio?: number;
  target?: number;
  meetsTarget?: boolean;
  /** Only for stores that send requests (not the memory store). */
  requests?: RequestsCheck;
  /** CPU over the step: s3backer (all threads), the server's processes, the bench, its tools, everything outside. */
  cpu: Record<string, CpuFigure>;
  /** The s3backer process: peak RSS during the step (VmHWM reset just before it), RSS at mount, the RSS limit. */
  process: { pid: number; peakRssMiB: number; peakCoversStepOnly: boolean; rssAtMountMiB: number; rssLimitMiB?: number; meetsRss?: boolean };
  /** Every numeric stats-file counter's change over the step (block cache hits, zero blocks ...). */
  counterDeltas: Record<string, number>;
  /** Workload details: bytes and files moved, fio's engine and latency ... */
  details: Record<string, number | string | boolean>;
  profile?: ProfileSummary;
  notes: string[];
}

/** The ratio and target fields of a row bounded by `ceiling`. */
export function againstCeiling(value: number, ceiling: Ceiling | undefined, target: number | undefined): Pick<BenchRow, 'ceiling' | 'ratio' | 'target' | 'meetsTarget'> {
  if (!ceiling) return {};
  const ratio = value / ceiling.value;
  return {
    ceiling: { name: ceiling.name, value: ceiling.value, unit: ceiling.unit }, ratio,
    ...(target === undefined ? {} : { target, meetsTarget: ratio >= target }),
  };
}
