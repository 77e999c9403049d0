import { open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { S3BackerError, type Logger } from 's3backer';
import type { CacheContents, CacheStorage, CacheVolume, CachedBlock } from './cache-storage.js';
import {
  ENTRY_SIZE, FREE_ENTRY, HEADER_COPY_OFFSETS, HEADER_REGION_SIZE, currentHeader, decodeEntry, encodeEntry,
  encodeHeader, entryOffset, etagFits, fileSize, slotOffset, volumeIdHash,
  type CacheFileEntry, type CacheFileHeader, type DecodedEntry, type HeaderProblem,
} from './cache-file-format.js';

/**
 * Slots beyond `--blockCacheSize`, for copy-on-write: a rewritten block holds its old slot until
 * the new one's entry is durable and the old entry's clearing is too (two group syncs later), so
 * every write in flight needs one slot more than the cache's block count. 64 covers the writes the
 * FUSE layer sends at once; more in flight wait for a slot being released instead of failing.
 */
export const SPARE_SLOTS = 64;

/** Directory entries are read in chunks of this many bytes (16384 entries). */
const DIRECTORY_CHUNK = 1 << 20;

/** The calls made on the open cache file: node's FileHandle fits it; a test wraps it to record the order. */
export interface CacheFileHandle {
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  write(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
  /** fdatasync(2): what data writes need to be durable (sizes of written extents included). */
  datasync(): Promise<void>;
  /** fsync(2): for the header and for new files. */
  sync(): Promise<void>;
  truncate(length: number): Promise<void>;
  stat(): Promise<{ size: number }>;
  close(): Promise<void>;
}

/** The file-system calls of the cache file. Production uses node's; tests record or fail calls. */
export interface CacheFileIo {
  /** 'r+' opens an existing file, 'wx+' creates one (O_CREAT|O_EXCL) with `mode`, 'r' reads (or opens a directory to fsync it). */
  open(path: string, flags: 'r' | 'r+' | 'wx+', mode?: number): Promise<CacheFileHandle>;
  rename(oldPath: string, newPath: string): Promise<void>;
  unlink(path: string): Promise<void>;
}

export const nodeCacheFileIo: CacheFileIo = {
  open: (path, flags, mode) => open(path, flags, mode),
  rename: (oldPath, newPath) => rename(oldPath, newPath),
  unlink: (path) => unlink(path),
};

export interface FileCacheStorageOptions {
  log?: Logger;
  io?: CacheFileIo;
  /**
   * Share one fdatasync among all writers waiting for one (default true). False gives every
   * writer its own fdatasync: only for measuring what group commit saves.
   */
  groupCommit?: boolean;
}

/** Counters since construction (the open-time ones describe what the last `open` found). */
export interface FileCacheStats {
  readonly fdatasyncs: number;
  readonly dataWrites: number;
  readonly entryWrites: number;
  /** Entries that failed their checksum or held impossible fields, ignored at open. */
  readonly tornEntries: number;
  /** Older entries of a block that had a newer one, freed at open. */
  readonly duplicateEntries: number;
  /** Clean blocks dropped at open because the capacity no longer holds them. */
  readonly droppedCleanBlocks: number;
  readonly slots: number;
  readonly freeSlots: number;
}

const NO_LOG: Logger = { error() {}, warn() {}, info() {}, debug() {} };

interface Deferred {
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Group commit: `sync()` resolves after an fdatasync that started after the call, so it covers
 * every write that completed before the call. Callers that arrive while one runs share the next.
 * After a failed fdatasync every later call fails too: the kernel may have dropped the pages it
 * could not write, so a later "successful" fdatasync would prove nothing (PostgreSQL's fsyncgate).
 */
class GroupCommit {
  count = 0;
  private running = false;
  private waiting: Deferred[] = [];
  private failure: unknown;

  constructor(private readonly handle: CacheFileHandle, private readonly grouped: boolean) {}

  sync(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (!this.grouped) {
      this.count++;
      return this.handle.datasync().catch((error: unknown) => {
        this.failure ??= error;
        throw error;
      });
    }
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      if (!this.running) void this.run();
    });
  }

  private async run(): Promise<void> {
    this.running = true;
    while (this.waiting.length > 0) {
      const batch = this.waiting;
      this.waiting = [];
      this.count++;
      try {
        await this.handle.datasync();
        for (const waiter of batch) waiter.resolve();
      } catch (error) {
        this.failure ??= error;
        for (const waiter of [...batch, ...this.waiting]) waiter.reject(error);
        this.waiting = [];
      }
    }
    this.running = false;
  }
}

interface SlotRecord {
  readonly slot: number;
  dirty: boolean;
  etag: string | undefined;
}

/** Everything that exists only between `open` and `close`. */
interface OpenFile {
  handle: CacheFileHandle;
  group: GroupCommit;
  volume: CacheVolume;
  header: CacheFileHeader;
  /** Which header copy is current; the next header update writes the other one. */
  headerCopy: number;
  slotCount: number;
  blocks: Map<number, SlotRecord>;
  /** Slots whose entry is durably free: the only ones new data may go to. */
  free: number[];
  /** Slots being released (entry clearing not yet durable): allocation may wait for them. */
  releasing: number;
  releaseWaiters: (() => void)[];
  /** Per block, the clearing of its older entries still under way: in-place changes wait for it. */
  retiring: Map<number, Promise<void>>;
  background: Set<Promise<void>>;
  nextGeneration: number;
}

function errnoOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function writeFully(handle: CacheFileHandle, buffer: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buffer.length) {
    const { bytesWritten } = await handle.write(buffer, done, buffer.length - done, position + done);
    if (bytesWritten <= 0) throw new Error(`write at offset ${position + done} wrote nothing`);
    done += bytesWritten;
  }
}

/** Reads until `buffer` is full or the file ends; returns how many bytes were read. */
async function readFully(handle: CacheFileHandle, buffer: Buffer, position: number): Promise<number> {
  let done = 0;
  while (done < buffer.length) {
    const { bytesRead } = await handle.read(buffer, done, buffer.length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

/** Reads the header region and decodes its current copy (of the two valid ones, the higher sequence). */
export async function readCurrentHeader(handle: CacheFileHandle): Promise<ReturnType<typeof currentHeader>> {
  const region = Buffer.alloc(HEADER_REGION_SIZE);
  const length = await readFully(handle, region, 0);
  return currentHeader(region.subarray(0, length));
}

/**
 * A header update (docs/format.md, "Block cache file"): the copy other than the current one
 * `headerCopy` gets `header` with the next sequence and `mountToken`, then fsync, so a torn write
 * leaves the current copy in charge. `volumeId` is the volume's whole id (the header keeps only its
 * hash and a cut text). Returns the header and copy that are current now.
 */
export async function writeHeaderUpdate(handle: CacheFileHandle, header: CacheFileHeader, headerCopy: number, mountToken: number, volumeId: string): Promise<{
  header: CacheFileHeader; headerCopy: number;
}> {
  const sequence = header.sequence + 1;
  const copy = 1 - headerCopy;
  await writeFully(handle, encodeHeader({ sequence, blockSize: header.blockSize, slotCount: header.slotCount, mountToken, volumeId }), HEADER_COPY_OFFSETS[copy]!);
  await handle.sync();
  return { header: { ...header, sequence, mountToken }, headerCopy: copy };
}

/**
 * Decodes the directory's `slotCount` entries in slot order, read in chunks of DIRECTORY_CHUNK
 * bytes; entries beyond the file's end (a directory cut short) read as zeros, that is free.
 */
export async function readDirectory(handle: CacheFileHandle, slotCount: number, visit: (slot: number, decoded: DecodedEntry) => void): Promise<void> {
  const perChunk = DIRECTORY_CHUNK / ENTRY_SIZE;
  const chunk = Buffer.alloc(Math.min(slotCount, perChunk) * ENTRY_SIZE);
  for (let first = 0; first < slotCount; first += perChunk) {
    const count = Math.min(perChunk, slotCount - first);
    const bytes = chunk.subarray(0, count * ENTRY_SIZE);
    const length = await readFully(handle, bytes, entryOffset(first));
    bytes.fill(0, length);
    for (let i = 0; i < count; i++) visit(first + i, decodeEntry(bytes.subarray(i * ENTRY_SIZE, (i + 1) * ENTRY_SIZE)));
  }
}

async function syncDirectory(io: CacheFileIo, path: string): Promise<void> {
  // The new name must survive a power cut too, not just the file's bytes.
  const directory = await io.open(dirname(path), 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}

/**
 * The mount token recorded in the cache file at `path` and not cleared: set when the last mount
 * that used the file did not shut down cleanly. Undefined when the file is absent, records none,
 * or is not a cache file this version reads (`open` then says why). The cache plugin calls it
 * before `open`, to recognise the mounted flag in S3 as its own crashed mount's.
 */
export async function readCacheFileToken(path: string, io: CacheFileIo = nodeCacheFileIo): Promise<number | undefined> {
  let handle: CacheFileHandle;
  try {
    handle = await io.open(path, 'r');
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return undefined;
    throw new S3BackerError('S3B_CACHE_FILE', `cache file ${path} cannot be read (${reason(error)}); check its permissions or use another --blockCacheFile`, { cause: error });
  }
  try {
    const current = await readCurrentHeader(handle);
    return current.ok && current.header.mountToken !== 0 ? current.header.mountToken : undefined;
  } finally {
    await handle.close();
  }
}

/**
 * The block cache's storage in one file (`--blockCacheFile`), so dirty blocks survive kill -9 and
 * clean ones survive a remount. Layout: `cache-file-format.ts` and docs/format.md.
 *
 * Crash safety comes from write order alone (no journal): new bytes always go to a slot whose
 * entry is durably free (copy-on-write, never over the slot the block's current entry names);
 * fdatasync; then the entry naming it, with a generation above every earlier one. The block's old
 * entry is cleared only after the new one is durable, and its slot takes new data only after the
 * clearing is durable. So after a power cut every block has its old entry or its new one, never
 * an entry naming torn data; if both survive, the higher generation wins at open. fdatasyncs are
 * shared by everyone waiting (group commit), so concurrent writers pay about one between them.
 */
export class FileCacheStorage implements CacheStorage {
  readonly description: string;
  readonly persistent = true;
  private readonly log: Logger;
  private readonly io: CacheFileIo;
  private readonly groupCommit: boolean;
  private file: OpenFile | undefined;
  private closed = false;
  /** The first write or fdatasync failure: afterwards nothing more is written (see GroupCommit). */
  private failure: S3BackerError | undefined;
  private counters = { fdatasyncs: 0, dataWrites: 0, entryWrites: 0, tornEntries: 0, duplicateEntries: 0, droppedCleanBlocks: 0 };

  constructor(readonly path: string, options: FileCacheStorageOptions = {}) {
    this.description = path;
    this.log = options.log ?? NO_LOG;
    this.io = options.io ?? nodeCacheFileIo;
    this.groupCommit = options.groupCommit ?? true;
  }

  get stats(): FileCacheStats {
    const file = this.file;
    return {
      ...this.counters,
      fdatasyncs: this.counters.fdatasyncs + (file?.group.count ?? 0),
      slots: file?.slotCount ?? 0,
      freeSlots: file?.free.length ?? 0,
    };
  }

  async open(volume: CacheVolume): Promise<CacheContents> {
    if (this.file !== undefined || this.closed) throw new S3BackerError('S3B_ENGINE_STATE', `cache file ${this.path} is opened twice; open it once per mount`);
    if (!Number.isSafeInteger(volume.capacity) || volume.capacity < 1) {
      throw new S3BackerError('S3B_CONFIG_INVALID', `block cache capacity ${volume.capacity} is not a positive number of blocks; set --blockCacheSize to 1 or more`);
    }
    // A rewrite that a crash interrupted leaves this behind; the file itself is intact.
    await this.io.unlink(this.newPath()).catch(() => {});

    let handle = await this.openOrCreate(volume);
    try {
      const { header, headerCopy } = await this.readHeader(handle, volume);
      const scan = await this.scanDirectory(handle, header, volume);

      // Every dirty block is kept, even beyond the capacity; clean ones fill what is left, newest first.
      const keep = Math.max(volume.capacity, scan.dirty.length);
      const clean = scan.clean.sort((a, b) => b.entry.generation - a.entry.generation);
      const dropped = clean.splice(keep - scan.dirty.length);
      this.counters.droppedCleanBlocks = dropped.length;
      const kept = [...scan.dirty, ...clean];
      const slotCount = keep + SPARE_SLOTS;

      let file: OpenFile;
      if (slotCount === header.slotCount) {
        const clear = [...scan.clear, ...dropped.map((found) => found.slot)];
        for (const slot of clear) await writeFully(handle, FREE_ENTRY, entryOffset(slot));
        if (clear.length > 0) {
          await handle.datasync();
          this.counters.fdatasyncs++;
        }
        file = this.openFile(handle, volume, header, headerCopy, kept);
      } else {
        this.log.info(`cache file ${this.path}: resizing from ${header.slotCount} to ${slotCount} slots (${keep} blocks + ${SPARE_SLOTS} spare), keeping ${scan.dirty.length} dirty and ${clean.length} clean blocks`);
        const rewritten = await this.rewrite(handle, header, volume, slotCount, kept);
        handle = rewritten.handle;
        file = this.openFile(handle, volume, rewritten.header, 0, rewritten.kept);
      }
      if (dropped.length > 0) this.log.info(`cache file ${this.path}: dropped ${dropped.length} clean blocks that the capacity of ${volume.capacity} blocks no longer holds`);
      this.file = file;

      // Record this mount's token last, once the directory is settled: a crash from here on is "ours".
      if (volume.mountToken !== undefined) await this.writeHeader(file, volume.mountToken);
      const blocks: CachedBlock[] = [...file.blocks].map(([block, record]) => ({ block, dirty: record.dirty, etag: record.etag }));
      return { mountToken: header.mountToken === 0 ? undefined : header.mountToken, blocks };
    } catch (error) {
      this.file = undefined;
      await handle.close().catch(() => {});
      throw this.asCacheFileError(error, 'opening');
    }
  }

  async read(block: number): Promise<Buffer> {
    const file = this.opened();
    const record = file.blocks.get(block);
    if (record === undefined) throw new S3BackerError('S3B_CACHE_FILE', `cache file ${this.path} holds no copy of this block; this is a bug in the block cache, please report it`, { block });
    const blockSize = file.volume.blockSize;
    const buffer = Buffer.allocUnsafe(blockSize);
    let length: number;
    try {
      length = await readFully(file.handle, buffer, slotOffset(file.slotCount, blockSize, record.slot));
    } catch (error) {
      throw new S3BackerError('S3B_CACHE_FILE', `reading cache file ${this.path} failed (${reason(error)}); check the disk that holds it`, { block, cause: error });
    }
    if (length !== blockSize) {
      throw new S3BackerError('S3B_CACHE_FILE', `cache file ${this.path} ends inside slot ${record.slot} (was it truncated by someone else?); unmount, delete it and remount`, { block });
    }
    return buffer;
  }

  putDirty(block: number, data: Buffer): Promise<void> {
    return this.put(block, data, true, undefined);
  }

  putClean(block: number, data: Buffer, etag: string | undefined): Promise<void> {
    return this.put(block, data, false, etag);
  }

  /**
   * Rewrites the entry in place (same slot, new generation), and resolves once that is durable:
   * after a power cut the file then agrees with the object store about which blocks are unsaved.
   */
  async markClean(block: number, etag: string | undefined): Promise<void> {
    const file = this.writable();
    const record = file.blocks.get(block);
    if (record === undefined) throw new S3BackerError('S3B_CACHE_FILE', `cache file ${this.path} cannot mark a block clean that it does not hold; this is a bug in the block cache, please report it`, { block });
    // An in-place write may tear; older entries of the block must be gone first so a torn one
    // cannot let an older dirty version come back.
    await file.retiring.get(block);
    const entry = etagFits(etag) ? encodeEntry({ generation: file.nextGeneration++, block, dirty: false, etag }) : FREE_ENTRY;
    if (entry === FREE_ENTRY) this.log.debug(`cache file ${this.path}: block ${block}'s ETag is too long to record; it will not be reused after a remount`);
    await this.guard('writing a directory entry', block, async () => {
      await this.writeEntry(file, record.slot, entry);
      record.dirty = false;
      record.etag = etag;
      await file.group.sync();
    });
  }

  /** Clears the entry and resolves once that is durable, so a removed block cannot come back. */
  async remove(block: number): Promise<void> {
    const file = this.writable();
    const record = file.blocks.get(block);
    if (record === undefined) return;
    await file.retiring.get(block);
    file.blocks.delete(block);
    file.releasing++;
    await this.release(file, record.slot, block, false);
  }

  async close(clean: boolean): Promise<void> {
    const file = this.file;
    if (file === undefined || this.closed) return;
    this.closed = true;
    await Promise.allSettled([...file.background]);
    try {
      if (this.failure !== undefined) {
        this.log.warn(`cache file ${this.path}: closing after a write failure; its mount token stays set`);
        return;
      }
      const dirty = [...file.blocks.values()].filter((record) => record.dirty).length;
      if (clean && dirty > 0) {
        // Clearing the token would hide these blocks from the next mount's recovery.
        this.log.warn(`cache file ${this.path}: closed as clean but ${dirty} blocks are still dirty; keeping the mount token so the next mount recovers them`);
      }
      if (clean && dirty === 0) {
        if (file.header.mountToken !== 0) await this.writeHeader(file, 0);
      } else {
        await file.handle.datasync();
        this.counters.fdatasyncs++;
      }
    } catch (error) {
      throw this.asCacheFileError(error, 'closing');
    } finally {
      await file.handle.close();
    }
  }

  // ---- the write path ----

  private async put(block: number, data: Buffer, dirty: boolean, etag: string | undefined): Promise<void> {
    const file = this.writable();
    const blockSize = file.volume.blockSize;
    if (data.length !== blockSize) {
      throw new S3BackerError('S3B_CACHE_FILE', `cache file ${this.path} was given ${data.length} bytes for a block of ${blockSize}; this is a bug in the block cache, please report it`, { block });
    }
    const slot = await this.allocate(file, block);
    try {
      await writeFully(file.handle, data, slotOffset(file.slotCount, blockSize, slot));
      this.counters.dataWrites++;
    } catch (error) {
      // No entry names the slot yet, so it is still free.
      this.returnSlot(file, slot);
      throw new S3BackerError('S3B_CACHE_FILE', `writing cache file ${this.path} failed (${reason(error)}); check the space and the disk that hold it`, { block, cause: error });
    }
    // If anything below fails the slot stays allocated: its entry's state on disk is unknown.
    await this.guard('writing a block', block, async () => {
      await file.group.sync(); // the data is durable before an entry names it
      if (etagFits(etag)) {
        await this.writeEntry(file, slot, encodeEntry({ generation: file.nextGeneration++, block, dirty, etag }));
      } else {
        this.log.debug(`cache file ${this.path}: block ${block}'s ETag is too long to record; it will not be reused after a remount`);
      }
    });
    const previous = file.blocks.get(block);
    file.blocks.set(block, { slot, dirty, etag });
    if (previous !== undefined) this.retire(file, block, previous.slot);
  }

  private async allocate(file: OpenFile, block: number): Promise<number> {
    for (;;) {
      if (this.failure !== undefined) throw this.failure;
      const slot = file.free.pop();
      if (slot !== undefined) return slot;
      if (file.releasing === 0) {
        throw new S3BackerError('S3B_CACHE_FILE',
          `cache file ${this.path} has no free slot: all ${file.slotCount} hold blocks, but the cache keeps at most ${file.volume.capacity} plus ${SPARE_SLOTS} being rewritten; this is a bug in the block cache, please report it`,
          { block });
      }
      await new Promise<void>((resolve) => file.releaseWaiters.push(resolve));
    }
  }

  /** The block's old slot, after a newer entry for it was written: cleared, then reusable. */
  private retire(file: OpenFile, block: number, slot: number): void {
    file.releasing++;
    const done = this.release(file, slot, block, true).catch(() => {
      // guard() recorded and logged the failure; the slot stays out of use.
    });
    const previous = file.retiring.get(block);
    const all = previous === undefined ? done : Promise.all([previous, done]).then(() => {});
    file.retiring.set(block, all);
    file.background.add(done);
    void done.then(() => file.background.delete(done));
    void all.then(() => {
      if (file.retiring.get(block) === all) file.retiring.delete(block);
    });
  }

  /**
   * Clears the slot's entry; the slot is reused only once the clearing is durable. The caller has
   * counted the slot in `releasing` (from the moment it knew, so allocation waits for it).
   */
  private async release(file: OpenFile, slot: number, block: number, afterNewEntry: boolean): Promise<void> {
    try {
      await this.guard('clearing a directory entry', block, async () => {
        // A rewritten block's new entry is durable before its old one goes: never neither.
        if (afterNewEntry) await file.group.sync();
        await this.writeEntry(file, slot, FREE_ENTRY);
        await file.group.sync();
      });
      file.free.push(slot);
    } finally {
      file.releasing--;
      this.wakeAllocators(file);
    }
  }

  private returnSlot(file: OpenFile, slot: number): void {
    file.free.push(slot);
    this.wakeAllocators(file);
  }

  private wakeAllocators(file: OpenFile): void {
    const waiters = file.releaseWaiters;
    file.releaseWaiters = [];
    for (const wake of waiters) wake();
  }

  private async writeEntry(file: OpenFile, slot: number, entry: Buffer): Promise<void> {
    await writeFully(file.handle, entry, entryOffset(slot));
    this.counters.entryWrites++;
  }

  /** Runs a step whose failure leaves the file's state unknown: the storage then refuses further writes. */
  private async guard(what: string, block: number, step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (error) {
      if (this.failure === undefined) {
        this.failure = new S3BackerError('S3B_CACHE_FILE',
          `cache file ${this.path}: ${what} failed (${reason(error)}); nothing more is written to it. Unmount, check the disk that holds it, and remount: dirty blocks written before are recovered`,
          { block, cause: error });
        this.log.error(this.failure.message);
        const file = this.file;
        if (file !== undefined) this.wakeAllocators(file);
      }
      throw this.failure;
    }
  }

  private opened(): OpenFile {
    if (this.file === undefined || this.closed) {
      throw new S3BackerError('S3B_ENGINE_STATE', `cache file ${this.path} is used ${this.closed ? 'after close' : 'before open'}; this is a bug in the block cache, please report it`);
    }
    return this.file;
  }

  private writable(): OpenFile {
    const file = this.opened();
    if (this.failure !== undefined) throw this.failure;
    return file;
  }

  // ---- open ----

  private newPath(): string {
    return `${this.path}.new`;
  }

  /** Opens the file, creating and initialising it (mode 0600) when it is missing or empty. */
  private async openOrCreate(volume: CacheVolume): Promise<CacheFileHandle> {
    for (let attempt = 0; ; attempt++) {
      try {
        const handle = await this.io.open(this.path, 'r+');
        // A zero-length file (touched, or created by a mount that died before its first fsync) is new.
        if ((await handle.stat()).size === 0) await this.initialise(handle, volume.capacity + SPARE_SLOTS, volume, 0, 1);
        return handle;
      } catch (error) {
        if (errnoOf(error) !== 'ENOENT' || attempt > 2) throw this.asCacheFileError(error, 'opening');
      }
      try {
        const handle = await this.io.open(this.path, 'wx+', 0o600);
        try {
          await this.initialise(handle, volume.capacity + SPARE_SLOTS, volume, 0, 1);
          await syncDirectory(this.io, this.path);
        } catch (error) {
          await handle.close().catch(() => {});
          throw error;
        }
        this.log.info(`cache file ${this.path}: created with ${volume.capacity + SPARE_SLOTS} slots of ${volume.blockSize} bytes`);
        return handle;
      } catch (error) {
        // EEXIST: created by someone else since; open it as an existing file.
        if (errnoOf(error) !== 'EEXIST') throw this.asCacheFileError(error, 'creating');
      }
    }
  }

  /** Header copy A, a sparse directory (all free) and data area, fsynced. */
  private async initialise(handle: CacheFileHandle, slotCount: number, volume: CacheVolume, mountToken: number, sequence: number): Promise<CacheFileHeader> {
    const bytes = encodeHeader({ sequence, blockSize: volume.blockSize, slotCount, mountToken, volumeId: volume.id });
    await handle.truncate(0);
    await writeFully(handle, bytes, HEADER_COPY_OFFSETS[0]);
    await handle.truncate(fileSize(slotCount, volume.blockSize));
    await handle.sync();
    const decoded = currentHeader(bytes);
    if (!decoded.ok) throw new Error('a header just encoded does not decode');
    return decoded.header;
  }

  private async readHeader(handle: CacheFileHandle, volume: CacheVolume): Promise<{ header: CacheFileHeader; headerCopy: number }> {
    const current = await readCurrentHeader(handle);
    if (!current.ok) throw this.headerRefusal(current.problem);
    const { header } = current;
    if (header.blockSize !== volume.blockSize) {
      throw new S3BackerError('S3B_CACHE_FILE', `cache file ${this.path} was made for block size ${header.blockSize}, not ${volume.blockSize}; delete it or use another --blockCacheFile`);
    }
    if (!header.volumeHash.equals(volumeIdHash(volume.id))) {
      const unsaved = header.mountToken !== 0
        ? ` Its last mount did not shut down cleanly, so it may hold that volume's unsaved blocks: mount that volume with this file first to store them.`
        : '';
      throw new S3BackerError('S3B_CACHE_FILE', `cache file ${this.path} was made for volume "${header.volumeText}", not "${volume.id}"; delete it or use another --blockCacheFile.${unsaved}`);
    }
    return { header, headerCopy: current.copy };
  }

  private headerRefusal(problem: HeaderProblem): S3BackerError {
    switch (problem.kind) {
      case 'empty':
        // Also what a power cut during this file's creation (before its first fsync) can leave.
        return new S3BackerError('S3B_CACHE_FILE', `cache file ${this.path} has zeros where its header should be: it is not an s3backer cache file, or a crash interrupted its creation; delete it or use another --blockCacheFile`);
      case 'magic':
        return new S3BackerError('S3B_CACHE_FILE', `cache file ${this.path} is not an s3backer cache file (it does not start with "S3BCACHE"); delete it or use another --blockCacheFile`);
      case 'version':
        return new S3BackerError('S3B_CACHE_FILE', `cache file ${this.path} has format version ${problem.version} but this s3backer reads version 1; use the s3backer that wrote it, or delete it or use another --blockCacheFile`);
      case 'corrupt':
        return new S3BackerError('S3B_CACHE_FILE', `cache file ${this.path} has a corrupt header (${problem.detail}); delete it or use another --blockCacheFile (blocks it held are read from the object store again; unsaved ones are lost)`);
    }
  }

  /** Reads every entry: the newest valid one of each block, and the slots to clear before use. */
  private async scanDirectory(handle: CacheFileHandle, header: CacheFileHeader, volume: CacheVolume): Promise<{
    dirty: FoundEntry[]; clean: FoundEntry[]; clear: number[];
  }> {
    const { size } = await handle.stat();
    const newest = new Map<number, FoundEntry>();
    const clear: number[] = [];
    let torn = 0;
    let duplicates = 0;
    let outOfRange = 0;
    await readDirectory(handle, header.slotCount, (slot, decoded) => {
      if (decoded.kind === 'free') return;
      if (decoded.kind === 'torn' || slotOffset(header.slotCount, header.blockSize, slot + 1) > size) {
        // A crash interrupted this entry's write (or the file was cut short): the write it
        // belonged to never returned, so ignoring it loses nothing acknowledged.
        torn++;
        clear.push(slot);
        return;
      }
      const { entry } = decoded;
      if (entry.block >= volume.numBlocks) {
        if (entry.dirty) {
          throw new S3BackerError('S3B_CACHE_FILE', `cache file ${this.path} holds an unsaved block beyond the volume's ${volume.numBlocks} blocks; mount with the size it was written with to store it, or delete the file to discard it`, { block: entry.block });
        }
        outOfRange++;
        clear.push(slot);
        return;
      }
      const other = newest.get(entry.block);
      if (other !== undefined) {
        duplicates++;
        // Two entries for one block: a crash came between writing the new one and clearing the old.
        if (other.entry.generation >= entry.generation) {
          clear.push(slot);
          return;
        }
        clear.push(other.slot);
      }
      newest.set(entry.block, { slot, entry });
    });
    this.counters.tornEntries = torn;
    this.counters.duplicateEntries = duplicates;
    if (torn > 0) this.log.warn(`cache file ${this.path}: ignored ${torn} torn or unreadable directory entries (writes a crash interrupted; no acknowledged write is lost by this)`);
    if (duplicates > 0) this.log.info(`cache file ${this.path}: freed ${duplicates} older copies of rewritten blocks`);
    if (outOfRange > 0) this.log.info(`cache file ${this.path}: dropped ${outOfRange} clean blocks beyond the volume's end`);
    const all = [...newest.values()];
    return { dirty: all.filter((found) => found.entry.dirty), clean: all.filter((found) => !found.entry.dirty), clear };
  }

  /**
   * Copies the kept blocks into a new file of `slotCount` slots beside the old one, then renames
   * it over the old one: a crash before the rename leaves the old file whole, after it the new one.
   */
  private async rewrite(old: CacheFileHandle, header: CacheFileHeader, volume: CacheVolume, slotCount: number, kept: FoundEntry[]): Promise<{
    handle: CacheFileHandle; header: CacheFileHeader; kept: FoundEntry[];
  }> {
    const newPath = this.newPath();
    const handle = await this.io.open(newPath, 'wx+', 0o600);
    const moved: FoundEntry[] = [];
    let newHeader: CacheFileHeader;
    try {
      // The old token travels along: until this mount records its own, the file is still the crashed mount's.
      newHeader = await this.initialise(handle, slotCount, volume, header.mountToken, header.sequence + 1);
      const buffer = Buffer.alloc(volume.blockSize);
      for (const [index, found] of kept.entries()) {
        const length = await readFully(old, buffer, slotOffset(header.slotCount, header.blockSize, found.slot));
        if (length !== volume.blockSize) throw new Error(`slot ${found.slot} is cut short`);
        await writeFully(handle, buffer, slotOffset(slotCount, volume.blockSize, index));
        await writeFully(handle, encodeEntry(found.entry), entryOffset(index));
        moved.push({ slot: index, entry: found.entry });
      }
      await handle.sync();
      await handle.close();
    } catch (error) {
      await handle.close().catch(() => {});
      await this.io.unlink(newPath).catch(() => {});
      throw error;
    }
    await old.close();
    await this.io.rename(newPath, this.path);
    await syncDirectory(this.io, this.path);
    return { handle: await this.io.open(this.path, 'r+'), header: newHeader, kept: moved };
  }

  private openFile(handle: CacheFileHandle, volume: CacheVolume, header: CacheFileHeader, headerCopy: number, kept: FoundEntry[]): OpenFile {
    const blocks = new Map<number, SlotRecord>();
    let generation = 0;
    for (const { slot, entry } of kept) {
      blocks.set(entry.block, { slot, dirty: entry.dirty, etag: entry.etag });
      generation = Math.max(generation, entry.generation);
    }
    const used = new Set(kept.map((found) => found.slot));
    const free: number[] = [];
    // Popped from the end: low slots first, so a file that is mostly empty stays sparse at its end.
    for (let slot = header.slotCount - 1; slot >= 0; slot--) if (!used.has(slot)) free.push(slot);
    return {
      handle,
      group: new GroupCommit(handle, this.groupCommit),
      volume,
      header,
      headerCopy,
      slotCount: header.slotCount,
      blocks,
      free,
      releasing: 0,
      releaseWaiters: [],
      retiring: new Map(),
      background: new Set(),
      nextGeneration: generation + 1,
    };
  }

  /** Writes the other header copy with a higher sequence and fsyncs: a torn write leaves the current one. */
  private async writeHeader(file: OpenFile, mountToken: number): Promise<void> {
    ({ header: file.header, headerCopy: file.headerCopy } = await writeHeaderUpdate(file.handle, file.header, file.headerCopy, mountToken, file.volume.id));
  }

  private asCacheFileError(error: unknown, doing: string): S3BackerError {
    if (error instanceof S3BackerError) return error;
    return new S3BackerError('S3B_CACHE_FILE', `${doing} cache file ${this.path} failed (${reason(error)}); check the path, its permissions and the disk, or use another --blockCacheFile`, { cause: error });
  }
}

interface FoundEntry {
  readonly slot: number;
  readonly entry: CacheFileEntry;
}
