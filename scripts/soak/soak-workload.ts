import type { RandomDataPool } from './random-data-pool.js';

/** How a range lies on the blocks: one whole block, a few whole blocks, or any bytes (partial blocks at either end). */
export type RangeShape = 'block' | 'blocks' | 'partial';

export type SoakOperation =
  | { kind: 'read'; shape: RangeShape; offset: number; length: number }
  | { kind: 'write'; shape: RangeShape; offset: number; data: Buffer; zero: boolean }
  | { kind: 'trim'; shape: RangeShape; offset: number; length: number }
  | { kind: 'flush' };

export interface Geometry {
  blockSize: number;
  numBlocks: number;
}

/** Share of operations of each kind (the rest are reads). */
const WRITE_SHARE = 0.45;
const TRIM_SHARE = 0.03;
const FLUSH_SHARE = 0.005;
/** Share of writes that are all zeros (the store deletes such blocks instead of storing them). */
const ZERO_SHARE = 0.1;
/** Share of ranges drawn from the first few blocks, so reads and writes of one block often race. */
const HOT_SHARE = 0.3;
const HOT_BLOCKS = 8;
/** Most blocks one operation covers. */
export const MAX_RANGE_BLOCKS = 4;

/**
 * One worker's operations, drawn from its own seeded PRNG (as the C tool's tester.c draws random
 * blocks and random read/write choices): whole blocks, runs of blocks, and partial ranges (half of
 * them 512-byte aligned, as a kernel sends them, half at any byte), some zero writes, some trims,
 * a few flushes.
 */
export class SoakWorkload {
  constructor(
    private readonly random: () => number,
    private readonly geometry: Geometry,
    private readonly pool: RandomDataPool,
  ) {}

  next(): SoakOperation {
    const u = this.random();
    if (u < FLUSH_SHARE) return { kind: 'flush' };
    if (u < FLUSH_SHARE + TRIM_SHARE) return { kind: 'trim', ...this.range() };
    if (u < FLUSH_SHARE + TRIM_SHARE + WRITE_SHARE) {
      const { shape, offset, length } = this.range();
      const zero = this.random() < ZERO_SHARE;
      const data = zero ? this.pool.zeroBytes(length) : this.pool.bytes(length, this.random());
      return { kind: 'write', shape, offset, data, zero };
    }
    return { kind: 'read', ...this.range() };
  }

  private range(): { shape: RangeShape; offset: number; length: number } {
    const { blockSize, numBlocks } = this.geometry;
    const size = blockSize * numBlocks;
    const hot = this.random() < HOT_SHARE;
    const u = this.random();
    const firstBlock = (count: number) => Math.floor(this.random() * ((hot ? Math.min(HOT_BLOCKS, numBlocks) : numBlocks) - count + 1));
    if (u < 0.4) return { shape: 'block', offset: firstBlock(1) * blockSize, length: blockSize };
    if (u < 0.55) {
      const count = Math.min(numBlocks, 2 + Math.floor(this.random() * (MAX_RANGE_BLOCKS - 1)));
      return { shape: 'blocks', offset: firstBlock(count) * blockSize, length: count * blockSize };
    }
    // At most two blocks' worth, so a partial range touches at most three blocks.
    const aligned = this.random() < 0.5 && blockSize >= 1024;
    const unit = aligned ? 512 : 1;
    const maxUnits = Math.floor((2 * blockSize) / unit);
    let length = (1 + Math.floor(this.random() * maxUnits)) * unit;
    const span = hot ? Math.min(HOT_BLOCKS * blockSize, size) : size;
    length = Math.min(length, span);
    const offset = Math.floor((this.random() * (span - length + 1)) / unit) * unit;
    return { shape: 'partial', offset, length };
  }
}
