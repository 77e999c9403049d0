/**
 * One bit per block: "known to be all zeros". The C tool's zero_cache (zero_cache.c): set after a read
 * returned zeros or a zero write succeeded, cleared before a non-zero write (so a failed write
 * leaves the block "unknown", never wrongly "zero").
 */
export class ZeroMap {
  /** Whole 32-bit words, so `addZeros` can OR a word at a time over a volume of millions of blocks. */
  private readonly words: Uint32Array;
  private known = 0;

  /**
   * `allZero`: start with every block marked (the `--listBlocks` survey's map of blocks that may
   * still be zero, zero_cache.c's `survey_zeros`, starts that way).
   */
  constructor(readonly numBlocks: number, allZero = false) {
    this.words = new Uint32Array(Math.ceil(numBlocks / 32));
    if (allZero && numBlocks > 0) {
      this.words.fill(0xffffffff);
      // Bits past the last block stay clear: `size` and `addZeros` count set bits.
      const tail = numBlocks % 32;
      if (tail !== 0) this.words[this.words.length - 1] = (2 ** tail - 1) >>> 0;
      this.known = numBlocks;
    }
  }

  /** How many blocks are known zero (the stats file's zero_block_cache_size). */
  get size(): number {
    return this.known;
  }

  isZero(block: number): boolean {
    return (this.words[block >>> 5]! & (1 << (block & 31))) !== 0;
  }

  set(block: number, zero: boolean): void {
    const mask = (1 << (block & 31)) >>> 0;
    const index = block >>> 5;
    const was = (this.words[index]! & mask) !== 0;
    if (was === zero) return;
    this.words[index] = zero ? this.words[index]! | mask : this.words[index]! & ~mask;
    this.known += zero ? 1 : -1;
  }

  /**
   * Mark every block `other` marks (a bitwise OR): how a completed survey fills the map
   * (zero_cache.c `zero_cache_survey_main`, `bitmap_or`). Returns how many blocks became known zero.
   */
  addZeros(other: ZeroMap): number {
    if (other.numBlocks !== this.numBlocks) throw new RangeError(`cannot merge a map of ${other.numBlocks} blocks into one of ${this.numBlocks}`);
    let added = 0;
    for (let i = 0; i < this.words.length; i++) {
      const fresh = other.words[i]! & ~this.words[i]!;
      if (fresh === 0) continue;
      added += popcount(fresh);
      this.words[i] = this.words[i]! | fresh;
    }
    this.known += added;
    return added;
  }
}

function popcount(word: number): number {
  let v = word >>> 0;
  v -= (v >>> 1) & 0x55555555;
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}
