import { KeyedMutex } from '../../src/engine/keyed-mutex.js';

/**
 * Exclusive locks on runs of blocks, for the soak's writers: one write per block at a time keeps
 * the oracle exact (range-oracle.ts). Locks are taken in ascending block order, so two writers
 * over overlapping ranges can never wait for each other in a cycle.
 */
export class BlockRangeLocks {
  private readonly mutex = new KeyedMutex<number>();

  /** Run `fn` holding blocks `first` to `last` inclusive. */
  async run<T>(first: number, last: number, fn: () => Promise<T>): Promise<T> {
    const from = (block: number): Promise<T> => (block > last ? fn() : this.mutex.run(block, () => from(block + 1)));
    return from(first);
  }
}
