import { S3BackerError } from 's3backer';
import {
  nodeCacheFileIo, readCurrentHeader, readDirectory, writeHeaderUpdate, type CacheFileHandle, type CacheFileIo,
} from './cache-file.js';
import { CacheFileLock } from './cache-file-lock.js';
import { volumeIdHash, type CacheFileHeader } from './cache-file-format.js';

/**
 * The volume id a cache file is made for (the header compares its SHA-256): where the store is
 * and the volume's prefix. The plugin records it at mount; `--reset-mounted-flag` checks it.
 */
export function cacheFileVolumeId(storeDescription: string, prefix: string): string {
  return `${storeDescription} ${prefix}`;
}

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
      const current = await readCurrentHeader(handle);
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
    ({ header: this.header, headerCopy: this.copy } = await writeHeaderUpdate(this.handle, this.header, this.copy, 0, this.volumeId));
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
  await readDirectory(handle, slotCount, (_slot, decoded) => {
    if (decoded.kind !== 'entry') return;
    const { block, generation, dirty } = decoded.entry;
    if ((newest.get(block)?.generation ?? 0) < generation) newest.set(block, { generation, dirty });
  });
  let dirty = 0;
  for (const entry of newest.values()) if (entry.dirty) dirty++;
  return dirty;
}
