import { blockPieces, type BlockPiece } from '../../src/engine/block-pieces.js';
import type { Mismatch } from './mismatch.js';

/**
 * One block as the oracle knows it. Immutable: every change makes a new image, so a read can hold
 * the images it may see without copying them.
 */
export interface BlockImage {
  readonly data: Buffer;
  /** 1 where the byte's value is not known (a failed write may or may not have landed); undefined: all known. */
  readonly unknown: Uint8Array | undefined;
}

/** A write the oracle was told about before it was sent to the device. */
export interface WriteInFlight {
  /** The device acknowledged it: its bytes are now what every later read must return. */
  acknowledged(): void;
  /** The device returned an error: each byte is now the old or the new value, unknown which, until rewritten. */
  failed(): void;
}

/** A read the oracle was told about before it was sent to the device. */
export interface ReadInFlight {
  /** Compare what the device returned; undefined when every block matched a version it may see. */
  check(got: Buffer, context: string): Mismatch | undefined;
  /** The read failed: nothing to compare. */
  abandon(): void;
}

/** A read in flight: per block, the versions it may return (grows as writes to its blocks start). */
class ReadWatch {
  readonly versions = new Map<number, BlockImage[]>();

  sees(block: number, image: BlockImage): void {
    this.versions.get(block)!.push(image);
  }
}

/**
 * What the volume must contain, in the spirit of the C tool's tester.c (which keeps the expected
 * content of every block and checks each read against it), made exact under concurrency:
 *
 * - Writers of one block never overlap (the workers lock the blocks a write covers), so each block
 *   has at most one write in flight, and its image after that write is known when it starts.
 * - Reads take no lock, so they race writes on purpose. A read may return, for each block, the
 *   last acknowledged image when it started, or the image of any write to that block in flight at
 *   any moment while the read was: nothing else. The block device reads a block from one buffer
 *   (one object, one cache entry), so a block piece must match one version as a whole.
 * - A failed write leaves each byte it covered either old or new (no layer half-applies a block),
 *   so bytes where the two differ become unknown until a later write covers them again.
 */
export class RangeOracle {
  private readonly images: BlockImage[];
  private readonly pending: Array<BlockImage | undefined>;
  private readonly watchers: Array<Set<ReadWatch> | undefined>;
  /** Bytes compared and found as expected. */
  bytesVerified = 0;

  constructor(readonly blockSize: number, readonly numBlocks: number) {
    // A new volume reads as zeros everywhere.
    const zeros: BlockImage = { data: Buffer.alloc(blockSize), unknown: undefined };
    this.images = new Array<BlockImage>(numBlocks).fill(zeros);
    this.pending = new Array<BlockImage | undefined>(numBlocks).fill(undefined);
    this.watchers = new Array<Set<ReadWatch> | undefined>(numBlocks).fill(undefined);
  }

  /** The last acknowledged image of a block. */
  image(block: number): BlockImage {
    return this.images[block]!;
  }

  /** Blocks with bytes no one knows (a failed write not yet overwritten). */
  unknownBlocks(): number {
    return this.images.filter((image) => image.unknown !== undefined).length;
  }

  /** Call before sending `data` to the device at `offset`; the caller holds the lock of every block it covers. */
  beginWrite(offset: number, data: Buffer): WriteInFlight {
    const changes = blockPieces(this.blockSize, offset, data.length).map((piece) => {
      const before = this.images[piece.block]!;
      if (this.pending[piece.block]) throw new Error(`soak: two writes of block ${piece.block} in flight at once; the workers must lock the blocks they write`);
      const after = patched(before, piece.start, data.subarray(piece.at, piece.at + piece.length));
      this.pending[piece.block] = after;
      for (const watch of this.watchers[piece.block] ?? []) watch.sees(piece.block, after);
      return { block: piece.block, before, after };
    });
    const settle = (outcome: (change: { before: BlockImage; after: BlockImage }) => BlockImage) => {
      for (const change of changes) {
        if (this.images[change.block] !== change.before) throw new Error(`soak: block ${change.block} changed under a write in flight; the workers must lock the blocks they write`);
        this.images[change.block] = outcome(change);
        this.pending[change.block] = undefined;
      }
    };
    return {
      acknowledged: () => settle(({ after }) => after),
      failed: () => settle(({ before, after }) => eitherOf(before, after)),
    };
  }

  /** Call before asking the device for `length` bytes at `offset`. */
  beginRead(offset: number, length: number): ReadInFlight {
    const pieces = blockPieces(this.blockSize, offset, length);
    const watch = new ReadWatch();
    for (const { block } of pieces) {
      const pending = this.pending[block];
      watch.versions.set(block, pending ? [this.images[block]!, pending] : [this.images[block]!]);
      let watchers = this.watchers[block];
      if (!watchers) watchers = this.watchers[block] = new Set();
      watchers.add(watch);
    }
    const unwatch = () => {
      for (const { block } of pieces) {
        const watchers = this.watchers[block]!;
        watchers.delete(watch);
        if (watchers.size === 0) this.watchers[block] = undefined;
      }
    };
    return {
      check: (got, context) => {
        unwatch();
        for (const piece of pieces) {
          const versions = watch.versions.get(piece.block)!;
          const bytes = got.subarray(piece.at, piece.at + piece.length);
          if (versions.some((version) => matches(version, piece.start, bytes))) {
            this.bytesVerified += piece.length;
            continue;
          }
          return this.describe('read', piece, bytes, versions, context);
        }
        return undefined;
      },
      abandon: unwatch,
    };
  }

  /** Check a whole block against its last acknowledged image (no write may be in flight). */
  checkBlock(phase: 'checkpoint' | 'durability', block: number, got: Buffer, context: string): Mismatch | undefined {
    const image = this.images[block]!;
    if (matches(image, 0, got)) {
      this.bytesVerified += got.length;
      return undefined;
    }
    return this.describe(phase, { block, start: 0, length: this.blockSize, at: 0 }, got, [image], context);
  }

  private describe(phase: Mismatch['phase'], piece: BlockPiece, got: Buffer, versions: readonly BlockImage[], context: string): Mismatch {
    // Against the last acknowledged write (what a reader after the race must see).
    const reference = this.images[piece.block]!;
    let first = -1;
    let differing = 0;
    for (let i = 0; i < got.length; i++) {
      const at = piece.start + i;
      if (reference.unknown?.[at] || got[i] === reference.data[at]) continue;
      differing++;
      if (first < 0) first = i;
    }
    if (first < 0) first = 0;
    const at = piece.start + first;
    return {
      phase,
      block: piece.block,
      offsetInBlock: at,
      diskOffset: piece.block * this.blockSize + at,
      differingBytes: differing,
      checkedBytes: got.length,
      expected: reference.data.subarray(at, Math.min(at + 16, piece.start + piece.length)).toString('hex'),
      got: got.subarray(first, first + 16).toString('hex'),
      acceptable: versions.length,
      context,
    };
  }
}

/** `image` with `bytes` written at `start`: those bytes become known. */
function patched(image: BlockImage, start: number, bytes: Buffer): BlockImage {
  const data = Buffer.from(image.data);
  bytes.copy(data, start);
  if (!image.unknown) return { data, unknown: undefined };
  const unknown = image.unknown.slice();
  unknown.fill(0, start, start + bytes.length);
  return { data, unknown: unknown.includes(1) ? unknown : undefined };
}

/** Each byte old or new, unknown which: known only where both agree. */
function eitherOf(before: BlockImage, after: BlockImage): BlockImage {
  const unknown = new Uint8Array(before.data.length);
  let any = false;
  for (let i = 0; i < unknown.length; i++) {
    if (before.unknown?.[i] || after.unknown?.[i] || before.data[i] !== after.data[i]) {
      unknown[i] = 1;
      any = true;
    }
  }
  return { data: after.data, unknown: any ? unknown : undefined };
}

/** Whether `got` equals the image's bytes from `start`, unknown bytes matching anything. */
function matches(image: BlockImage, start: number, got: Buffer): boolean {
  const want = image.data.subarray(start, start + got.length);
  if (!image.unknown) return got.equals(want);
  for (let i = 0; i < got.length; i++) {
    if (!image.unknown[start + i] && got[i] !== want[i]) return false;
  }
  return true;
}
