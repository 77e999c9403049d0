/**
 * Where the block cache keeps the bytes of its blocks: in memory (the default) or in a cache file
 * (`--blockCacheFile`). The cache's state machine (clean / dirty / uploading, LRU, write-back)
 * lives in `BlockCache`; a storage only keeps bytes and, when persistent, enough to rebuild that
 * state after a restart or a crash.
 *
 * What the cache guarantees to a storage: calls for ONE block never overlap (each settles before
 * the next for that block starts, and no `read` of a block runs while it is being removed or
 * rewritten); calls for different blocks run concurrently. `open` comes first, `close` last.
 */
export interface CacheStorage {
  /** For messages: "memory" or the cache file's path. */
  readonly description: string;
  /** True when the bytes survive the process (a cache file): dirty blocks then survive kill -9. */
  readonly persistent: boolean;

  /**
   * Called once at mount, before any other call. Returns what an earlier mount left behind
   * (always empty for memory). Refuses, with S3B_CACHE_FILE, a file made for another volume or
   * block size, or one that is corrupt.
   */
  open(volume: CacheVolume): Promise<CacheContents>;

  /** The block's bytes (exactly blockSize). The buffer is never written afterwards by anyone. */
  read(block: number): Promise<Buffer>;

  /**
   * New bytes for a block, not yet in the object store. The cache hands over a buffer nobody else
   * writes (the storage may keep it). Resolves once a kill -9 can no longer lose the bytes: for a
   * file, data first and then the entry that makes it dirty, so a crash leaves either the old
   * state or the new one, never an entry pointing at torn data.
   */
  putDirty(block: number, data: Buffer): Promise<void>;

  /**
   * Optional: write `data` at `offset` into the block's bytes in place, as a new dirty version.
   * The cache calls it only when nobody else holds the block's buffer (no reader was handed it
   * since it was stored, no upload is reading it). A storage whose crash safety needs
   * copy-on-write (the cache file) leaves it out, and the cache then rewrites the whole block.
   */
  patch?(block: number, offset: number, data: Buffer): Promise<void>;

  /** Bytes read from the object store (clean), with the object's ETag (undefined: no object, zeros). */
  putClean(block: number, data: Buffer, etag: string | undefined): Promise<void>;

  /** The bytes last given to `putDirty` for this block are now stored in the object store with this ETag. */
  markClean(block: number, etag: string | undefined): Promise<void>;

  /** The block leaves the cache (evicted, or its data is stale): its space may be reused. */
  remove(block: number): Promise<void>;

  /**
   * Close at unmount. `clean` is true when no dirty block remains: a persistent storage then
   * records the clean unmount (clears its mount token) and keeps its clean blocks for the next mount.
   */
  close(clean: boolean): Promise<void>;
}

/** The volume a cache belongs to: a cache file of another volume must be refused. */
export interface CacheVolume {
  /** Identifies the volume, e.g. the store's description plus the prefix. */
  readonly id: string;
  readonly blockSize: number;
  readonly numBlocks: number;
  /** How many blocks the cache may hold (`--blockCacheSize`); a file may hold more when dirty blocks need it. */
  readonly capacity: number;
  /** The mounted flag's token this mount holds (recorded, so a crashed mount's file is recognised); undefined when read-only. */
  readonly mountToken: number | undefined;
}

export interface CacheContents {
  /** The mount token the file recorded and did not clear: set when its last mount did not shut down cleanly. */
  readonly mountToken: number | undefined;
  readonly blocks: readonly CachedBlock[];
}

export interface CachedBlock {
  readonly block: number;
  /** Not yet stored in the object store when the last mount ended. */
  readonly dirty: boolean;
  /** For clean blocks: the object's ETag when cached (undefined: no object, zeros), to verify before use. */
  readonly etag: string | undefined;
}
