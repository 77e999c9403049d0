import { transferableCopy } from './transferable-buffer.js';

/**
 * ArrayBuffers that came back from a worker thread after a job read them, kept to carry the next
 * job's bytes. A fresh buffer per job costs more than the copy into it: measured on the project's
 * 2-core VM, copying 1 MiB into a new allocation took 84–134 µs, into a reused one 37–39 µs (the
 * difference is the kernel faulting in and zeroing fresh pages, and later the GC freeing them).
 * Through the object pipeline, AES + HMAC at 1 MiB through the threads, four alternations: reused
 * buffers wrote 740–804 MB/s against 703–758 with fresh ones, and read 870–997 against 825–927.
 *
 * Buffers are kept by capacity class, a length rounded up to an eighth of its power of two (at
 * most 12.5% unused), so blocks of one size, or of nearby compressed sizes, share a class; at most
 * `maxBytes` are kept in all, and a buffer that does not fit is left to the GC.
 */
export class SpareBuffers {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private held = 0;

  constructor(private readonly maxBytes = 16 * 1024 * 1024) {}

  /** A copy of `source` in an ArrayBuffer of its own (reused when a spare one fits), `extra` bytes longer. */
  copy(source: Uint8Array, extra = 0): Buffer {
    const length = source.length + extra;
    const spare = this.free.get(capacityFor(length))?.pop();
    if (!spare) return transferableCopy(source, extra + capacityFor(length) - length).subarray(0, length);
    this.held -= spare.byteLength;
    const copy = Buffer.from(spare, 0, length);
    copy.set(source);
    return copy;
  }

  /** Keep a buffer a worker sent back (after its job read it) for a later copy. */
  give(buffer: ArrayBuffer): void {
    const capacity = buffer.byteLength;
    // Detached (length 0), not one of ours, or over the budget: let it go.
    if (capacity === 0 || capacity !== capacityFor(capacity) || this.held + capacity > this.maxBytes) return;
    let list = this.free.get(capacity);
    if (!list) this.free.set(capacity, (list = []));
    list.push(buffer);
    this.held += capacity;
  }

  /** Bytes kept now. */
  get bytes(): number {
    return this.held;
  }
}

/** `length` rounded up to a multiple of an eighth of its highest power of two (at least 4 KiB). */
export function capacityFor(length: number): number {
  if (length <= 4096) return 4096;
  const step = Math.max(4096, 2 ** Math.floor(Math.log2(length)) / 8);
  return Math.ceil(length / step) * step;
}
