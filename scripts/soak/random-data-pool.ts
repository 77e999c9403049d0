import { seededRandom } from '../../plugins/chaos/seeded-random.js';

/**
 * Seeded random bytes to write, drawn as slices of one pool: every write gets different bytes
 * (a stale block is then never mistaken for the new one) without generating each write anew.
 * The pool is never modified, so slices are handed to the device as they are.
 */
export class RandomDataPool {
  private readonly pool: Buffer;
  private readonly zeros: Buffer;

  constructor(seed: number, readonly maxLength: number) {
    const random = seededRandom(seed);
    this.pool = Buffer.allocUnsafe(Math.max(4 << 20, 8 * maxLength));
    for (let i = 0; i < this.pool.length; i += 4) this.pool.writeUInt32LE(Math.floor(random() * 4294967296), i);
    this.zeros = Buffer.alloc(maxLength);
  }

  /** `length` random bytes, starting at a place `u` (in [0, 1)) picks. */
  bytes(length: number, u: number): Buffer {
    if (length > this.maxLength) throw new RangeError(`soak: ${length} bytes asked from a pool made for ${this.maxLength}`);
    const start = Math.floor(u * (this.pool.length - length));
    return this.pool.subarray(start, start + length);
  }

  /** `length` zero bytes (shared; never modified). */
  zeroBytes(length: number): Buffer {
    return this.zeros.subarray(0, length);
  }
}
