// The extension point for the benchmark's rows. A producer is one workload family: given one store
// (the server target or the memory store) at one block size, with that block size's ceilings, it
// mounts what it needs, measures its steps, and adds one row per step (BenchVolume.addRow does the
// request counting, CPU, RSS and ratio). The run calls every selected producer for every store it
// lists and every block size, in the order of ROW_PRODUCERS (row-producers.ts).
//
// Adding rows (e.g. NBD through `nbdcopy`): write `scripts/bench/<name>-rows.ts` exporting a
// RowProducer, add it to ROW_PRODUCERS, and document its rows in docs/benchmarks.md. Its id becomes
// a value of --only; `byDefault: false` keeps it out of runs that do not name it. A producer that
// needs something other than a FUSE mount (an NBD server, say) starts it itself and registers its
// undo with cleanup.defer() so an interrupted run takes it down; one that runs commands does so
// through runTracked() so they are killed first. Ratios need a ceiling: take one of the block
// size's (rc.ceilings), or measure one in the producer right before its rows.
import type { StoreKind } from './bench-options.js';
import type { RowContext } from './bench-context.js';

export interface RowProducer {
  /** The workload's id: a value of --only, the prefix of its rows' workload names. */
  id: string;
  /** One line on what its rows measure (printed at the start of a run). */
  describe: string;
  stores: readonly StoreKind[];
  /** The workload names of the rows it adds on each store (the run's expected rows: a missing one is a failure). */
  rows: readonly string[];
  /** Runs without --only naming it. */
  byDefault: boolean;
  /** Ceilings it compares with: the run measures these for the block size before the producer's store runs. */
  /**
   * What the run prepares for it: ceilings (rawHttp on a server; bareFuse, bareFuseRandom on the
   * memory store), shared inputs (smallFiles, the fio engine) and what the machine must have (loop devices).
   */
  needs: { rawHttp?: boolean; bareFuse?: boolean; bareFuseRandom?: boolean; smallFiles?: boolean; fio?: boolean; loop?: boolean };
  run(rc: RowContext): Promise<void>;
}
