import { S3BackerError, Stage, type BlockContext, type S3BackerPlugin } from 's3backer';
import { decodeLimit } from '../compress-deflate/decode-limit.js';
import { checkCompressorOptions } from '../compress-deflate/check-compressor-options.js';
import { loadZstdLibrary, type ZstdLibrary, type ZstdLoader } from './zstd-library.js';
import { pooledZstd, ZSTD_WORKER_MIN_BYTES } from './pooled-zstd.js';
import { acquireSharedCodecWorkerPool, type CodecWorkerPoolLease } from '../codec-workers/shared-codec-worker-pool.js';

export const ZSTD_PLUGIN_NAME = 'zstd';
/** The Content-Encoding token, the C tool's (compress.c `comp_algs[].name`). */
const TOKEN = 'zstd';
/** ZSTD_CLEVEL_DEFAULT, the C tool's default (compress.c, zstd_compress). */
const DEFAULT_LEVEL = 3;
/**
 * ZSTD_minCLevel() (-ZSTD_TARGETLENGTH_MAX, the same in every zstd since 1.4) and ZSTD_maxCLevel():
 * checked when the plugin is created, before any library is loaded; the loaded library's own
 * bounds are checked again at mount.
 */
const MIN_LEVEL = -131072;
const MAX_LEVEL = 22;

export interface ZstdPluginOptions {
  /** Compress blocks on write (the C tool's `--compress=zstd`); decoding is always on. */
  encode?: boolean;
  /** zstd level: negative (fastest) .. 22 (smallest); 0 and the default mean 3. */
  level?: number;
}

/**
 * Blocks as one zstd frame each (content size recorded, no checksum), Content-Encoding `zstd`:
 * what the C tool stores with `--compress=zstd [--compress-level=N]`.
 *
 * Decoding is tapped whatever `encode` says (blocks decode by the encoding their object records).
 * The zstd library is loaded lazily: at mount when encoding (a missing library then fails the
 * mount, before anything is written), else at the first zstd block read.
 */
export function zstdPlugin(options: ZstdPluginOptions = {}): S3BackerPlugin {
  return createZstdPlugin(options, loadZstdLibrary);
}

/** How the plugin spreads its work; for tests and measurements, not a user setting. */
export interface ZstdPluginTuning {
  /**
   * With a synchronous library (zstd-napi), blocks of at least this many bytes are compressed and
   * decompressed in the codec worker threads (default ZSTD_WORKER_MIN_BYTES, per direction,
   * chosen by measurement). Infinity: never; 0: always.
   */
  workerMinBytes?: number;
}

/** `zstdPlugin` with the library loader given (tests pass one that finds no library), and its work split as `tuning` says. */
export function createZstdPlugin(options: ZstdPluginOptions, load: ZstdLoader, tuning: ZstdPluginTuning = {}): S3BackerPlugin {
  const { encode, level } = checkOptions(options);
  const workerMinBytes = tuning.workerMinBytes ?? ZSTD_WORKER_MIN_BYTES;
  const smallest = typeof workerMinBytes === 'number' ? workerMinBytes : Math.min(workerMinBytes.compress, workerMinBytes.decompress);
  return {
    name: ZSTD_PLUGIN_NAME,
    apply(engine) {
      const log = engine.logger(ZSTD_PLUGIN_NAME);
      let library: Promise<ZstdLibrary | string> | undefined;
      /** The library, or the reason there is none (loaded once per plugin instance). */
      const get = () => (library ??= load().then((result) => ('library' in result ? result.library : result.unavailable)));
      let lease: CodecWorkerPoolLease | undefined;
      let offloaded: ReturnType<typeof pooledZstd> | undefined;
      /**
       * What compresses and decompresses this mount's blocks: a synchronous library moves blocks
       * of the size that pays for it to the codec worker threads (the pool taken at the first
       * such block, given back at shutdown).
       */
      const codec = async ({ blockSize }: BlockContext): Promise<ZstdLibrary | string> => {
        const zstd = await get();
        if (typeof zstd === 'string' || !zstd.synchronous || blockSize < smallest) return zstd;
        if (!offloaded) {
          lease ??= acquireSharedCodecWorkerPool();
          offloaded = pooledZstd(zstd, lease.pool, { minBytes: workerMinBytes, warn: (message) => log.warn(message) });
        }
        return offloaded.library;
      };
      engine.hooks.shutdown.tapPromise(ZSTD_PLUGIN_NAME, async () => {
        offloaded?.close();
        offloaded = undefined;
        const held = lease;
        lease = undefined;
        await held?.release();
      });

      engine.hooks.decode.for(TOKEN).tapPromise({ name: ZSTD_PLUGIN_NAME }, async (object, block) => {
        const zstd = await codec(block);
        if (typeof zstd === 'string') throw unavailable(zstd, block);
        // zstd reads an empty input as zero frames, zero bytes: say what it is instead.
        if (object.body.length === 0) throw new Error('the body is empty, not a zstd frame');
        return { ...object, body: await zstd.decompress(object.body, decodeLimit(object, block)) };
      });
      if (!encode) return;

      engine.hooks.mount.tapPromise({ name: ZSTD_PLUGIN_NAME }, async () => {
        const zstd = await get();
        if (typeof zstd === 'string') {
          throw new S3BackerError('S3B_CODEC_UNAVAILABLE', `cannot compress blocks with zstd: ${zstd}`, { plugin: ZSTD_PLUGIN_NAME, token: TOKEN });
        }
        if (zstd.levels && (level < zstd.levels.min || level > zstd.levels.max)) {
          throw new S3BackerError('S3B_CONFIG_INVALID',
            `invalid zstd compression level ${level}: ${zstd.description} accepts ${zstd.levels.min} to ${zstd.levels.max}`, { plugin: ZSTD_PLUGIN_NAME });
        }
        // One byte through the compressor: a library that cannot take this level, or cannot
        // write the frame the C tool's format needs, fails the mount, not the first write.
        await zstd.compress(Buffer.from([1]), level).catch((error: unknown) => {
          throw new S3BackerError('S3B_CODEC_UNAVAILABLE',
            `${zstd.description} cannot compress at level ${level}: ${error instanceof Error ? error.message : String(error)}; use another --compress-level, or the other zstd library (Node >= 22.15 or npm install zstd-napi)`,
            { plugin: ZSTD_PLUGIN_NAME, token: TOKEN, cause: error });
        });
      });
      // Every non-zero block is compressed, even when that makes it bigger, as the C tool does
      // (http_io.c, http_io_write_block).
      engine.hooks.encode.tapPromise({ name: ZSTD_PLUGIN_NAME, stage: Stage.COMPRESS }, async (object, block) => {
        const zstd = await codec(block);
        if (typeof zstd === 'string') throw unavailable(zstd, block, true);
        return { body: await zstd.compress(object.body, level), encodings: [...object.encodings, TOKEN], metadata: object.metadata };
      });
    },
  };
}

/** No zstd library, met on reading a zstd block or (mount checks first, so only in theory) on writing one. */
function unavailable(reason: string, block: BlockContext, writing = false): S3BackerError {
  return new S3BackerError('S3B_CODEC_UNAVAILABLE',
    writing ? `cannot store object "${block.key}" with zstd: ${reason}` : `object "${block.key}" is stored with Content-Encoding "zstd", but ${reason}`,
    { block: block.block, plugin: ZSTD_PLUGIN_NAME, token: TOKEN });
}

const ALLOWED = `allowed: { encode?: boolean; level?: an integer from ${MIN_LEVEL} (fastest) to ${MAX_LEVEL} (smallest), 0 or unset = ${DEFAULT_LEVEL} }`;

function checkOptions(options: ZstdPluginOptions): { encode: boolean; level: number } {
  const encode = checkCompressorOptions(ZSTD_PLUGIN_NAME, options, ALLOWED);
  const level = options.level ?? DEFAULT_LEVEL;
  // The C tool's zstd_lparse (compress.c): ZSTD_minCLevel() .. ZSTD_maxCLevel().
  if (!Number.isInteger(level) || level < MIN_LEVEL || level > MAX_LEVEL) {
    throw new S3BackerError('S3B_CONFIG_INVALID',
      `invalid zstd compression level ${JSON.stringify(options.level)}: use an integer from ${MIN_LEVEL} (fastest) to ${MAX_LEVEL} (smallest); the default is ${DEFAULT_LEVEL}`,
      { plugin: ZSTD_PLUGIN_NAME });
  }
  return { encode, level };
}
