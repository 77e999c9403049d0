import { S3BackerError, Stage, type Logger, type S3BackerPlugin } from 's3backer';
import { BlockCache, type BlockCacheSettings } from './block-cache.js';
import type { CacheStorage } from './cache-storage.js';
import { MemoryStorage } from './memory-storage.js';
import { blockCacheStats } from './block-cache-stats.js';
import { FileCacheStorage, readCacheFileToken } from './cache-file.js';
import { CacheFileLock } from './cache-file-lock.js';
import { cacheFileVolumeId } from './cache-file-token.js';

export const BLOCK_CACHE_PLUGIN_NAME = 'block-cache';

export interface BlockCachePluginOptions {
  /** Blocks held (`--blockCacheSize`); capped to the volume's block count. Default 1000. */
  size?: number;
  /** Uploads and read-ahead downloads in flight (`--blockCacheThreads`). Default 20. */
  threads?: number;
  /** ms before a dirty block uploads (`--blockCacheWriteDelay`). Default 250. */
  writeDelay?: number;
  /** Writes return once stored (`--blockCacheSync`; needs writeDelay 0). */
  sync?: boolean;
  /** ms after which unused clean blocks are dropped, 0 never (`--blockCacheTimeout`). */
  timeout?: number;
  /** Writers wait while this many blocks are dirty, 0 no limit (`--blockCacheMaxDirty`). */
  maxDirty?: number;
  /** Blocks below this number are evicted last (`--blockCacheNumProtected`). */
  numProtected?: number;
  /** Blocks read ahead of a sequential reader (`--readAhead`). Default 4. */
  readAhead?: number;
  /** Consecutive reads that start read-ahead (`--readAheadTrigger`). Default 2. */
  readAheadTrigger?: number;
  /** Keep the cache in this file (`--blockCacheFile`): it survives restarts, and dirty blocks survive kill -9. */
  file?: string;
  /** Where block bytes live, for a third-party storage; default memory (or `file`). */
  storage?: (log: Logger) => CacheStorage;
  /** With a persistent storage: use reloaded clean blocks without checking their ETag (`--blockCacheNoVerify`). */
  noVerify?: boolean;
  /** Upload dirty blocks a persistent storage kept even when its mount token is not the volume's (`--blockCacheRecoverDirtyBlocks`). */
  recoverDirtyBlocks?: boolean;
  /** Pause before a failed upload is tried again, ms. Default 1000. */
  retryPause?: number;
  /** A persistent third-party storage's mount token, read before it opens, to recognise our own crashed mount (`file` has its own). */
  recordedMountToken?: () => Promise<number | undefined>;
}

function count(name: string, value: number | undefined, fallback: number, min: number): number {
  const result = value ?? fallback;
  if (!Number.isSafeInteger(result) || result < min) {
    throw new S3BackerError('S3B_CONFIG_INVALID', `block cache option ${name} must be an integer of at least ${min}, not ${String(value)}; fix the value`);
  }
  return result;
}

/**
 * The write-back block cache (C: block_cache.c) on the block-tier hooks at `Stage.BLOCK_CACHE`:
 * answers reads and takes writes, uploads dirty blocks through the object tier, drains them on
 * fsync and unmount. See docs/block-cache.md.
 */
export function blockCachePlugin(options: BlockCachePluginOptions = {}): S3BackerPlugin {
  const settings: Omit<BlockCacheSettings, 'capacity'> & { size: number } = {
    size: count('size', options.size, 1000, 1),
    threads: count('threads', options.threads, 20, 1),
    writeDelay: count('writeDelay', options.writeDelay, 250, 0),
    sync: options.sync ?? false,
    timeout: count('timeout', options.timeout, 0, 0),
    maxDirty: count('maxDirty', options.maxDirty, 0, 0),
    numProtected: count('numProtected', options.numProtected, 0, 0),
    readAhead: count('readAhead', options.readAhead, 4, 0),
    readAheadTrigger: count('readAheadTrigger', options.readAheadTrigger, 2, 1),
    retryPauseMs: count('retryPause', options.retryPause, 1000, 0),
  };
  if (settings.sync && settings.writeDelay !== 0) {
    throw new S3BackerError('S3B_CONFIG_INVALID', 'block cache option sync needs writeDelay 0 (--blockCacheSync needs --blockCacheWriteDelay=0); fix the configuration');
  }
  if (options.file !== undefined && options.storage !== undefined) {
    throw new S3BackerError('S3B_CONFIG_INVALID', 'block cache options file and storage cannot both be given; choose one place for the cached blocks');
  }
  const file = options.file;
  const createStorage = options.storage ?? (file !== undefined ? (log: Logger) => new FileCacheStorage(file, { log }) : () => new MemoryStorage());
  // A cache file's token names our own crashed mount only when no live process holds the file.
  const recordedMountToken = options.recordedMountToken
    ?? (file !== undefined ? async () => ((await CacheFileLock.holder(file)) === undefined ? readCacheFileToken(file) : undefined) : undefined);

  return {
    name: BLOCK_CACHE_PLUGIN_NAME,
    apply(engine) {
      const tap = { name: BLOCK_CACHE_PLUGIN_NAME, stage: Stage.BLOCK_CACHE };
      const log = engine.logger(BLOCK_CACHE_PLUGIN_NAME);
      let cache: BlockCache | undefined;
      let storage: CacheStorage | undefined;
      let lock: CacheFileLock | undefined;
      /** The mounted flag's token that we took over as our own crashed mount's. */
      let reclaimedToken: number | undefined;

      if (recordedMountToken) {
        const recorded = recordedMountToken;
        engine.hooks.reclaimMount.tapPromise(tap, async ({ token }) => {
          if (engine.config.readOnly || (await recorded()) !== token) return undefined;
          reclaimedToken = token;
          return true;
        });
      }

      engine.hooks.mount.tapPromise(tap, async ({ geometry, store, mountToken }) => {
        if (settings.numProtected > settings.size) log.warn(`--blockCacheNumProtected=${settings.numProtected} is larger than the cache (${settings.size} blocks)`);
        const capacity = Math.min(settings.size, geometry.numBlocks);
        if (file !== undefined) lock = await CacheFileLock.acquire(file);
        storage = createStorage(log);
        const contents = await storage.open({
          id: cacheFileVolumeId(store.description, geometry.prefix), blockSize: geometry.blockSize, numBlocks: geometry.numBlocks, capacity, mountToken,
        }).catch(async (error: unknown) => {
          await lock?.release();
          throw error;
        });
        const dirty = contents.blocks.filter((cached) => cached.dirty);
        if (dirty.length > 0) {
          const ours = contents.mountToken !== undefined && contents.mountToken === reclaimedToken;
          if (engine.config.readOnly || !(ours || options.recoverDirtyBlocks)) {
            await storage.close(false);
            await lock?.release();
            throw new S3BackerError('S3B_CACHE_FILE',
              `${storage.description} holds ${dirty.length} blocks that an earlier mount wrote but never stored, and it is not recognised as this volume's crashed mount (its mount token does not match the volume's mounted flag)` +
              (engine.config.readOnly ? '; mount read-write to upload them, or move the file away to discard them' : '; add --blockCacheRecoverDirtyBlocks to upload them, or move the file away to discard them'));
          }
          log.warn(`${storage.description}: recovering ${dirty.length} dirty blocks left by an earlier mount; uploading them now`);
        }
        cache = new BlockCache({
          numBlocks: geometry.numBlocks,
          blockSize: geometry.blockSize,
          fetch: (block) => engine.fetchBlock(block),
          etag: (block) => engine.objects.etag(block),
          store: (block, data) => engine.objects.write(block, data),
          evicted: (block, reason) => engine.evicted({ block, reason }),
        }, storage, { ...settings, capacity }, log);
        cache.restore(contents.blocks, !options.noVerify);
      });
      engine.hooks.readBlock.tapPromise(tap, async ({ block }) => cache?.read(block));
      engine.hooks.writeBlock.tapPromise(tap, async ({ block, data, isZero, owned }) => {
        if (!cache) return undefined;
        await cache.write(block, data, isZero, owned);
        return true;
      });
      engine.hooks.writeBlockPart.tapPromise(tap, async ({ block, offset, data }) => ((await cache?.writePart(block, offset, data)) ? true : undefined));
      engine.hooks.flush.tapPromise(tap, async () => cache?.flush());
      engine.hooks.listBlocks.tap(tap, (sink) => {
        for (const block of cache?.dirtyBlocks() ?? []) sink.add(block);
      });
      engine.hooks.shutdown.tapPromise(tap, async () => {
        if (!cache || !storage) return;
        // After stop(): uploads in flight settle first, and their outcome decides what is dirty.
        await cache.stop();
        const blocks = cache.dirtyBlocks();
        try {
          await storage.close(blocks.length === 0);
        } finally {
          await lock?.release();
        }
        if (blocks.length === 0) return;
        const where = storage.persistent
          ? `they are kept in ${storage.description} and the next mount of this volume with that cache file uploads them`
          : 'they were only in memory and are LOST (use --blockCacheFile to keep unstored blocks across a failed unmount)';
        throw new S3BackerError('S3B_FLUSH_FAILED',
          `${blocks.length} dirty blocks could not be stored before unmount (${blocks.slice(0, 8).map((b) => b.toString(16).padStart(8, '0')).join(', ')}${blocks.length > 8 ? ', ...' : ''}); ${where}; the mounted flag stays set`);
      });
      engine.stats(blockCacheStats(() => cache));
    },
  };
}

export { BlockCache, type BlockCacheSettings, type BlockSource } from './block-cache.js';
export { MemoryStorage } from './memory-storage.js';
export { FileCacheStorage, readCacheFileToken } from './cache-file.js';
export { CacheFileToken, cacheFileVolumeId } from './cache-file-token.js';
export type { CacheStorage, CacheVolume, CacheContents, CachedBlock } from './cache-storage.js';
