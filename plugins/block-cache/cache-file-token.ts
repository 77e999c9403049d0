import { S3BackerError } from '../../src/errors/s3backer-error.js';
import { nodeCacheFileIo, type CacheFileHandle, type CacheFileIo } from './cache-file.js';
import { CacheFileLock } from './cache-file-lock.js';
import {
  ENTRY_SIZE, HEADER_COPY_OFFSETS, HEADER_REGION_SIZE, currentHeader, decodeEntry, encodeHeader, entryOffset, volumeIdHash,
  type CacheFileHeader,
} from './cache-file-format.js';

/**
 * The volume id a cache file is made for (the header compares its SHA-256): where the store is
 * and the volume's prefix. The plugin records it at mount; `--reset-mounted-flag` checks it.
 */
export function cacheFileVolumeId(storeDescription: string, prefix: string): string {
  return `${storeDescription} ${prefix}`;
}

/** Directory entries are read in chunks of this many bytes (16384 entries). */
const DIRECTORY_CHUNK = 1 << 20;

/**
 * The mount token recorded in a cache file's header, held open (with the file's lock) so that
 * `--reset-mounted-flag` can check the file before it touches the mounted flag in the store and
 * clear the token after (reset.c zeroes the cache file's token with the flag). Clearing writes
 * the header exactly as a clean unmount does (docs/format.md, "Block cache file"): the other
 * header copy with the next sequence and token 0, then fsync, so the file stays valid and a torn
 * write leaves the current copy in charge. Nothing else in the file changes.
 */
export class CacheFileToken {
  private constructor(
    readonly path: string,
    private readonly handle: CacheFileHandle,
    private readonly lock: CacheFileLock,
    private header: CacheFileHeader,
    private copy: number,
    private readonly volumeId: string,
    /** Blocks the file holds that were never stored: the next mount uploads them only if it recognises the file. */
    readonly dirtyBlocks: number,
  ) {}

  /** The token recorded (the last mount using the file did not shut down cleanly), or undefined. */
  get token(): number | undefined {
    return this.header.mountToken === 0 ? undefined : this.header.mountToken;
  }

  /**
   * Open `path` for volume `volumeId`: undefined when the file does not exist. Refuses
   * (S3B_CACHE_FILE) a file a live s3backer uses (the volume is mounted), one made for another
   * volume (its token is not this volume's to clear), and one that is not a readable cache file.
   */
  static async open(path: string, volumeId: string, io: CacheFileIo = nodeCacheFileIo): Promise<CacheFileToken | undefined> {
    let handle: CacheFileHandle;
    try {
      handle = await io.open(path, 'r+');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new S3BackerError('S3B_CACHE_FILE', `cache file ${path} cannot be opened (${(error as Error).message}); check its permissions, or leave out --blockCacheFile`, { cause: error });
    }
    let lock: CacheFileLock | undefined;
    try {
      const holder = await CacheFileLock.holder(path);
      if (holder !== undefined) {
        throw new S3BackerError('S3B_CACHE_FILE',
          `cache file ${path} is in use by s3backer process ${holder}, so the volume is mounted; unmount it first (its flag is cleared at a clean unmount)`);
      }
      lock = await CacheFileLock.acquire(path);
      const region = Buffer.alloc(HEADER_REGION_SIZE);
      const current = currentHeader(region.subarray(0, await readFully(handle, region, 0)));
      if (!current.ok) {
        throw new S3BackerError('S3B_CACHE_FILE',
          `cache file ${path} is not a valid s3backer cache file (${current.problem.kind === 'version' ? `format version ${current.problem.version}` : current.problem.kind === 'corrupt' ? current.problem.detail : `no header: ${current.problem.kind}`}), so it records no mount token to clear; leave out --blockCacheFile, and delete the file`);
      }
      if (!current.header.volumeHash.equals(volumeIdHash(volumeId))) {
        throw new S3BackerError('S3B_CACHE_FILE',
          `cache file ${path} belongs to volume "${current.header.volumeText}", not "${volumeId}": its mount token is not this volume's to clear; give this volume's cache file, or leave out --blockCacheFile`);
      }
      const dirtyBlocks = await countDirtyBlocks(handle, current.header.slotCount);
      return new CacheFileToken(path, handle, lock, current.header, current.copy, volumeId, dirtyBlocks);
    } catch (error) {
      await handle.close().catch(() => {});
      await lock?.release();
      throw error;
    }
  }

  /** Record "no mount" (token 0) as a clean unmount does; nothing is written when none is recorded. */
  async clear(): Promise<void> {
    if (this.header.mountToken === 0) return;
    const sequence = this.header.sequence + 1;
    const copy = 1 - this.copy;
    const bytes = encodeHeader({ sequence, blockSize: this.header.blockSize, slotCount: this.header.slotCount, mountToken: 0, volumeId: this.volumeId });
    await writeFully(this.handle, bytes, HEADER_COPY_OFFSETS[copy]!);
    await this.handle.sync();
    this.header = { ...this.header, sequence, mountToken: 0 };
    this.copy = copy;
  }

  async close(): Promise<void> {
    try {
      await this.handle.close();
    } finally {
      await this.lock.release();
    }
  }
}

/** Blocks whose newest entry is dirty (of two entries for one block, the higher generation counts, as at mount). */
async function countDirtyBlocks(handle: CacheFileHandle, slotCount: number): Promise<number> {
  const newest = new Map<number, { generation: number; dirty: boolean }>();
  const chunk = Buffer.alloc(DIRECTORY_CHUNK);
  for (let slot = 0; slot < slotCount; slot += DIRECTORY_CHUNK / ENTRY_SIZE) {
    const length = Math.min(DIRECTORY_CHUNK, (slotCount - slot) * ENTRY_SIZE);
    const read = await readFully(handle, chunk.subarray(0, length), entryOffset(slot));
    for (let at = 0; at + ENTRY_SIZE <= read; at += ENTRY_SIZE) {
      const decoded = decodeEntry(chunk.subarray(at, at + ENTRY_SIZE));
      if (decoded.kind !== 'entry') continue;
      const { block, generation, dirty } = decoded.entry;
      if ((newest.get(block)?.generation ?? 0) < generation) newest.set(block, { generation, dirty });
    }
  }
  let dirty = 0;
  for (const entry of newest.values()) if (entry.dirty) dirty++;
  return dirty;
}

async function readFully(handle: CacheFileHandle, buffer: Buffer, position: number): Promise<number> {
  let done = 0;
  while (done < buffer.length) {
    const { bytesRead } = await handle.read(buffer, done, buffer.length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

async function writeFully(handle: CacheFileHandle, buffer: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buffer.length) done += (await handle.write(buffer, done, buffer.length - done, position + done)).bytesWritten;
}
