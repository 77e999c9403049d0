/**
 * One bit per block: "known to be all zeros". The C tool's zero_cache (zero_cache.c): set after a read
 * returned zeros or a zero write succeeded, cleared before a non-zero write (so a failed write
 * leaves the block "unknown", never wrongly "zero").
 */
export class ZeroMap {
  private readonly bits: Uint8Array;
  private known = 0;

  constructor(readonly numBlocks: number) {
    this.bits = new Uint8Array(Math.ceil(numBlocks / 8));
  }

  /** How many blocks are known zero (the stats file's zero_block_cache_size). */
  get size(): number {
    return this.known;
  }

  isZero(block: number): boolean {
    return (this.bits[block >>> 3]! & (1 << (block & 7))) !== 0;
  }

  set(block: number, zero: boolean): void {
    const mask = 1 << (block & 7);
    const index = block >>> 3;
    const was = (this.bits[index]! & mask) !== 0;
    if (was === zero) return;
    this.bits[index] = zero ? this.bits[index]! | mask : this.bits[index]! & ~mask;
    this.known += zero ? 1 : -1;
  }
}
