// What every row producer gets: the run's options and shared inputs (the server, the random source
// file, the small-file sets, the fio engine), where rows go, and for one (store, block size) pair
// the ceilings measured right before its rows.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchOptions, StoreKind } from './bench-options.js';
import type { BenchRow, Ceiling } from './bench-row.js';
import type { FioEngine } from './fio-run.js';
import type { ServerTarget } from './server-target.js';
import type { SmallFileSets } from './small-file-sets.js';

export interface BenchContext {
  options: BenchOptions;
  /** The --server target; undefined when only the memory store runs. */
  target: ServerTarget | undefined;
  /** Temporary directory for mount points, fio logs ... (removed at the end). */
  work: string;
  /** options.total random bytes on tmpfs (zeros would be elided; tmpfs is never the bottleneck). */
  source: string;
  smallFiles: SmallFileSets | undefined;
  fioEngine: FioEngine | undefined;
  rows: BenchRow[];
  /** A fresh empty directory under `work`. */
  newMountPoint(label: string): Promise<string>;
  /** node flags for an s3backer process: --cpu-prof into the profile directory when asked. */
  nodeFlags(processLabel: string): string[];
}

/** The ceilings of one block size, each measured right before the rows it bounds (the load on a shared machine changes minute to minute). */
export interface Ceilings {
  rawPut?: Ceiling;
  rawGet?: Ceiling;
  bareWrite?: Ceiling;
  bareRead?: Ceiling;
  bareRandRead?: Ceiling;
  bareRandWrite?: Ceiling;
}

/** One store at one block size: what a row producer runs against. */
export interface RowContext {
  bench: BenchContext;
  store: StoreKind;
  /** `s3rver`, `radosgw` or `memory`: the rows' store column. */
  storeName: string;
  blockSize: number;
  ceilings: Ceilings;
}

export function createBenchContext(fields: Omit<BenchContext, 'newMountPoint' | 'nodeFlags' | 'rows'>): BenchContext {
  let mountCount = 0;
  return {
    ...fields,
    rows: [],
    async newMountPoint(label) {
      const path = join(fields.work, `mnt-${++mountCount}-${label}`);
      await mkdir(path);
      return path;
    },
    nodeFlags(processLabel) {
      const dir = fields.options.cpuProfDir;
      return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${processLabel}.cpuprofile`] : [];
    },
  };
}
