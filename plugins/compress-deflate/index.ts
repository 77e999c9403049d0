import { S3BackerError, Stage, type S3BackerPlugin } from 's3backer';
import { checkCompressorOptions } from './check-compressor-options.js';
import { decodeLimit } from './decode-limit.js';
import { zlibCompress, zlibDecompress } from './zlib-codec.js';

export const DEFLATE_PLUGIN_NAME = 'deflate';
/** The Content-Encoding token, the C tool's (compress.c `comp_algs[].name`). */
const TOKEN = 'deflate';

export interface DeflatePluginOptions {
  /** Compress blocks on write (the C tool's `--compress`); decoding is always on. */
  encode?: boolean;
  /** zlib level: -1 (the default, which zlib takes as 6), 0 (stored, no compression) to 9 (smallest). */
  level?: number;
}

/**
 * Blocks in the zlib format, Content-Encoding `deflate`: byte for byte what the C tool stores
 * with `--compress[=deflate] [--compress-level=N]`.
 *
 * Decoding is tapped whatever `encode` says: blocks decode by the encoding their object records,
 * and the C tool may have written some of them with `--compress` in an earlier mount.
 */
export function deflatePlugin(options: DeflatePluginOptions = {}): S3BackerPlugin {
  const { encode, level } = checkOptions(options);
  return {
    name: DEFLATE_PLUGIN_NAME,
    apply(engine) {
      engine.hooks.decode.for(TOKEN).tapPromise({ name: DEFLATE_PLUGIN_NAME }, async (object, block) => ({
        ...object,
        body: await zlibDecompress(object.body, decodeLimit(object, block)),
      }));
      if (!encode) return;
      // Every non-zero block is compressed, even when that makes it bigger, as the C tool does
      // (http_io.c, http_io_write_block): the stored objects stay identical to its own.
      engine.hooks.encode.tapPromise({ name: DEFLATE_PLUGIN_NAME, stage: Stage.COMPRESS }, async (object) => ({
        body: await zlibCompress(object.body, level),
        encodings: [...object.encodings, TOKEN],
        metadata: object.metadata,
      }));
    },
  };
}

const ALLOWED = 'allowed: { encode?: boolean; level?: -1 (default, = 6) or 0 (no compression) to 9 (best) }';

function checkOptions(options: DeflatePluginOptions): { encode: boolean; level: number } {
  const encode = checkCompressorOptions(DEFLATE_PLUGIN_NAME, options, ALLOWED);
  const level = options.level ?? -1;
  // The C tool's deflate_lparse (compress.c): Z_DEFAULT_COMPRESSION (-1), Z_NO_COMPRESSION (0), Z_BEST_SPEED (1) .. Z_BEST_COMPRESSION (9).
  if (!Number.isInteger(level) || level < -1 || level > 9) {
    throw new S3BackerError('S3B_CONFIG_INVALID', `invalid deflate compression level ${JSON.stringify(options.level)}: use -1 (the default, same as 6) or an integer from 0 (no compression) to 9 (best compression)`, { plugin: DEFLATE_PLUGIN_NAME });
  }
  return { encode, level };
}
