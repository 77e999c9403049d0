import { S3BackerError, Stage, type S3BackerPlugin } from 's3backer';
import { Md5Cache } from './md5-cache.js';
import { Md5ProtectedStore } from './md5-protected-store.js';
import { md5ProtectStats } from './md5-protect-stats.js';

export const MD5_PROTECT_PLUGIN_NAME = 'md5-protect';

/**
 * The wrapStore stage: outside the chaos store, limits and observers, so that what it guards
 * against (a store that answers with an older version) includes everything they do, and its own
 * answers from memory are not counted as requests.
 */
export const MD5_PROTECT_STORE_STAGE = Stage.STORE_CONSISTENCY;

export interface Md5ProtectPluginOptions {
  /** Blocks remembered at once, written or being written (`--md5CacheSize`); capped to the volume's block count. */
  size: number;
  /** ms a written block's ETag is remembered; 0 (the default) until unmount, which needs `size` to cover every block (`--md5CacheTime`). */
  time?: number;
  /** Least ms between the end of one write of a block and the start of the next (`--minWriteDelay`). Default 0. */
  minWriteDelay?: number;
  /** First pause before a stale read is tried again, ms; default `--initialRetryPause`. */
  initialRetryPause?: number;
  /** Most ms of pauses spent on stale reads of one block before S3B_STALE_READ; default `--maxRetryPause`. */
  maxRetryPause?: number;
}

function count(name: string, value: number | undefined, fallback: number, min: number): number {
  const result = value ?? fallback;
  if (!Number.isSafeInteger(result) || result < min) {
    throw new S3BackerError('S3B_CONFIG_INVALID', `md5-protect option ${name} must be an integer of at least ${min}, not ${String(value)}; fix the value`);
  }
  return result;
}

/**
 * Protection for stores with weaker consistency than AWS S3 (the C tool's MD5 cache, ec_protect.c):
 * a read never returns an older version of a block than this mount wrote, and writes of one block
 * are spaced by `minWriteDelay`. It wraps the chosen store (wrapStore), so a write-back cache's
 * uploads and misses are guarded too, as ec_protect sits below block_cache in the C tool. The
 * table is not persisted: after a restart, wait `time` before relying on it (the C tool's rule).
 */
export function md5ProtectPlugin(options: Md5ProtectPluginOptions): S3BackerPlugin {
  const size = count('size', options.size, 0, 1);
  const time = count('time', options.time, 0, 0);
  const minWriteDelay = count('minWriteDelay', options.minWriteDelay, 0, 0);
  if (time > 0 && time < minWriteDelay) {
    throw new S3BackerError('S3B_CONFIG_INVALID',
      `md5-protect option time (${time} ms, --md5CacheTime) is shorter than minWriteDelay (${minWriteDelay} ms, --minWriteDelay): an entry would be forgotten before the delay it enforces ends; make time at least ${minWriteDelay}`);
  }
  const initialRetryPause = options.initialRetryPause === undefined ? undefined : count('initialRetryPause', options.initialRetryPause, 0, 0);
  const maxRetryPause = options.maxRetryPause === undefined ? undefined : count('maxRetryPause', options.maxRetryPause, 0, 0);

  return {
    name: MD5_PROTECT_PLUGIN_NAME,
    apply(engine) {
      const tap = { name: MD5_PROTECT_PLUGIN_NAME, stage: Stage.MD5_PROTECT };
      const log = engine.logger(MD5_PROTECT_PLUGIN_NAME);
      /** The store of the latest createStore: the mount's (a maintenance command's is never protected). */
      let store: Md5ProtectedStore | undefined;

      engine.hooks.wrapStore.tap({ name: MD5_PROTECT_PLUGIN_NAME, stage: MD5_PROTECT_STORE_STAGE }, (inner) => (store = new Md5ProtectedStore(inner, log)));
      // At VERIFY, before any other mount tap can write a block (a cache uploading recovered blocks).
      engine.hooks.mount.tapPromise({ name: MD5_PROTECT_PLUGIN_NAME, stage: Stage.VERIFY }, async ({ geometry }) => {
        if (!store) return;
        const { numBlocks } = geometry;
        if (time === 0 && size < numBlocks) {
          throw new S3BackerError('S3B_CONFIG_INVALID',
            `the MD5 cache holds ${size} blocks (--md5CacheSize=${size}) and keeps them forever (--md5CacheTime=0), but the volume has ${numBlocks} blocks: ` +
            `once ${size} blocks were written, writes of any other block would wait forever (the C tool's "eventual deadlock"). Give --md5CacheTime=MS, or --md5CacheSize=${numBlocks} or more`);
        }
        if (size > numBlocks) log.info(`MD5 cache size (${size}) is greater than the number of blocks (${numBlocks}); reducing it to ${numBlocks}`);
        store.protect(geometry, new Md5Cache(Math.min(size, numBlocks), time), {
          minWriteDelay,
          initialRetryPause: initialRetryPause ?? engine.config.initialRetryPause,
          maxRetryPause: maxRetryPause ?? engine.config.maxRetryPause,
        });
      });
      // A listing of an eventually consistent store may not show blocks just written yet.
      engine.hooks.listBlocks.tap(tap, (sink) => {
        for (const block of store?.trackedBlocks() ?? []) sink.add(block);
      });
      engine.hooks.shutdown.tapPromise(tap, async () => store?.release());
      engine.stats(md5ProtectStats(() => {
        const table = store?.table;
        return table && store ? { size: table.size, counters: store.counters } : undefined;
      }));
    },
  };
}
