import { S3BackerError } from '../errors/s3backer-error.js';
import type { BlockGeometry } from './block-geometry.js';
import { KeyedMutex } from './keyed-mutex.js';
import { copyBuffer } from './copy-buffer.js';
import { blockPieces, type BlockPiece } from './block-pieces.js';
import { forEachLimited } from './concurrency-limit.js';

/** What the block device needs from the tier below: whole-block operations. */
export interface BlockIo {
  readBlock(block: number): Promise<Buffer>;
  /** `owned`: `data` was made for this write and nobody else holds it (a tap may keep it without copying). */
  writeBlock(block: number, data: Buffer, owned?: boolean): Promise<void>;
  /** Apply part of a block where it lives, if the tier can; false: the device does read-modify-write. */
  writePart(block: number, offset: number, data: Buffer): Promise<boolean>;
  /** Whole blocks `[first, first + count)` were zeroed by a trim. */
  trimmed(first: number, count: number): Promise<void>;
  flush(): Promise<void>;
}

/** At most this many blocks of one request are in flight at once (a 128 KiB FUSE request of 4 KiB blocks is 32). */
const MAX_PARALLEL_BLOCKS = 64;

/**
 * Byte ranges over blocks: validates bounds once, splits a request into blocks that run
 * concurrently, does read-modify-write of partial blocks under a per-block lock (whole-block writes
 * take the same lock, so two writes of one block reach the store in order), and tracks in-flight
 * requests so shutdown can drain them.
 */
export class BlockDevice {
  private readonly locks = new KeyedMutex();
  private inFlight = 0;
  private idle: Array<() => void> = [];
  private closed = false;
  /** With `serial`: the request before this one settles first (the C tool's `-s`, FUSE single-threaded). */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly geometry: BlockGeometry,
    private readonly io: BlockIo,
    readonly readOnly: boolean,
    private readonly options: { serial?: boolean } = {},
  ) {}

  get size(): number {
    return this.geometry.size;
  }

  /**
   * `length` bytes at `offset`. The buffer may be shared with a cache (one whole block is returned
   * as the tier gave it): treat it as read-only.
   */
  async read(offset: number, length: number): Promise<Buffer> {
    const pieces = this.split(offset, length);
    if (pieces.length === 1 && pieces[0]!.length === this.geometry.blockSize) {
      return this.track(async () => {
        this.checkRange(offset, length);
        return this.io.readBlock(pieces[0]!.block);
      });
    }
    const result = Buffer.allocUnsafe(length);
    await this.readInto(offset, result);
    return result;
  }

  /** Fill `target` with the bytes at `offset`: the frontends' path, one copy from each block into the caller's buffer. */
  async readInto(offset: number, target: Buffer): Promise<void> {
    return this.track(async () => {
      this.checkRange(offset, target.length);
      await forEachLimited(this.split(offset, target.length), MAX_PARALLEL_BLOCKS, async (piece) => {
        const data = await this.io.readBlock(piece.block);
        data.copy(target, piece.at, piece.start, piece.start + piece.length);
      });
    });
  }

  /**
   * `owned`: `data` was made for this write and nobody uses it afterwards (an NBD request's
   * payload), so a cache may keep it without a copy. Only when the request is exactly one whole
   * block: a block cut from a larger buffer would keep all of that buffer alive for as long as the
   * cache keeps the block (a 1 MiB request of 64 KiB blocks, one block still cached, pins 1 MiB).
   * FUSE's buffers are reused by the binding: never owned.
   */
  async write(offset: number, data: Buffer, options: { owned?: boolean } = {}): Promise<void> {
    return this.track(async () => {
      this.checkWritable();
      this.checkRange(offset, data.length);
      const pieces = this.split(offset, data.length);
      const owned = options.owned === true && pieces.length === 1;
      await forEachLimited(pieces, MAX_PARALLEL_BLOCKS, (piece) =>
        this.writePiece(piece, data.subarray(piece.at, piece.at + piece.length), owned));
    });
  }

  /** Zero a range: whole blocks are deleted from the store, partial edges are zero-filled. */
  async trim(offset: number, length: number): Promise<void> {
    return this.track(async () => {
      this.checkWritable();
      this.checkRange(offset, length);
      const zeros = Buffer.alloc(this.geometry.blockSize);
      const pieces = this.split(offset, length);
      await forEachLimited(pieces, MAX_PARALLEL_BLOCKS, (piece) => this.writePiece(piece, zeros.subarray(0, piece.length), false));
      const whole = pieces.filter((piece) => piece.length === this.geometry.blockSize);
      if (whole.length > 0) await this.io.trimmed(whole[0]!.block, whole.length);
    });
  }

  async flush(): Promise<void> {
    return this.track(() => this.io.flush());
  }

  /** Refuse new requests and wait for those in flight. */
  async drain(): Promise<void> {
    this.closed = true;
    if (this.inFlight === 0) return;
    await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  private async writePiece(piece: BlockPiece, bytes: Buffer, owned: boolean): Promise<void> {
    const { blockSize } = this.geometry;
    await this.locks.run(piece.block, async () => {
      if (piece.length === blockSize) return this.io.writeBlock(piece.block, bytes, owned);
      if (await this.io.writePart(piece.block, piece.start, bytes)) return;
      // The block as read is shared (a cache's copy): patch a private copy, and hand it over.
      const block = copyBuffer(await this.io.readBlock(piece.block));
      bytes.copy(block, piece.start);
      return this.io.writeBlock(piece.block, block, true);
    });
  }

  private split(offset: number, length: number): BlockPiece[] {
    return blockPieces(this.geometry.blockSize, offset, length);
  }

  private checkRange(offset: number, length: number): void {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new TypeError(`offset and length must be non-negative integers, got ${offset} and ${length}`);
    }
    if (offset + length > this.geometry.size) {
      throw new S3BackerError('S3B_OUT_OF_RANGE',
        `range [${offset}, ${offset + length}) ends past the end of the ${this.geometry.size}-byte disk; callers must clip requests to the disk size`);
    }
  }

  private checkWritable(): void {
    if (this.readOnly) throw new S3BackerError('S3B_READ_ONLY', 'the disk is mounted read-only (--readOnly); remount without it to write');
  }

  private async track<T>(operation: () => Promise<T>): Promise<T> {
    if (this.closed) throw new S3BackerError('S3B_ENGINE_STATE', 'the disk is shutting down; no new requests are accepted');
    this.inFlight++;
    try {
      if (!this.options.serial) return await operation();
      const turn = this.queue.then(operation, operation);
      this.queue = turn.catch(() => {});
      return await turn;
    } finally {
      if (--this.inFlight === 0 && this.idle.length > 0) for (const resolve of this.idle.splice(0)) resolve();
    }
  }
}
