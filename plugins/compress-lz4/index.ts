import { S3BackerError, Stage, type BlockContext, type S3BackerPlugin } from 's3backer';
import { decodeLimit } from '../compress-deflate/decode-limit.js';
import { checkCompressorOptions } from '../compress-deflate/check-compressor-options.js';
import { loadLz4Library, type Lz4Library, type Lz4Loader } from './lz4-library.js';
import { checkLz4Frame } from './lz4-frame-check.js';

export const LZ4_PLUGIN_NAME = 'lz4';
const TOKEN = 'lz4';

export interface Lz4PluginOptions {
  /** Compress blocks on write; decoding is always on. */
  encode?: boolean;
  /** Not supported: lz4 here has no levels. Accepted by the type only so that passing one gets a clear error. */
  level?: number;
}

/**
 * Blocks as LZ4, Content-Encoding `lz4`: ours, not the C tool's (it has no lz4 and cannot read
 * these blocks; it fails them as an unknown encoding).
 *
 * The body is one standard LZ4 *frame* (lz4_Frame_format.md, lz4-napi's compressFrame), not a
 * bare LZ4 block: the frame is self-describing and checked (magic number, header checksum), so a
 * stored object can be read with the `lz4` command-line tool (`lz4 -d`), and it carries a content
 * checksum (xxHash32 of the block, what `lz4` itself writes by default), so a corrupt body fails
 * to decode instead of returning wrong data: LZ4 has no check of its own, unlike zlib's Adler-32.
 * The frame records no content size (lz4-napi cannot write one); the pipeline checks the length.
 *
 * Decoding is tapped whatever `encode` says (blocks decode by the encoding their object records).
 */
export function lz4Plugin(options: Lz4PluginOptions = {}): S3BackerPlugin {
  return createLz4Plugin(options, loadLz4Library);
}

/** `lz4Plugin` with the library loader given: tests pass one that finds no library. */
export function createLz4Plugin(options: Lz4PluginOptions, load: Lz4Loader): S3BackerPlugin {
  const { encode } = checkOptions(options);
  return {
    name: LZ4_PLUGIN_NAME,
    apply(engine) {
      let library: Promise<Lz4Library | string> | undefined;
      /** The library, or the reason there is none (loaded once per plugin instance). */
      const get = () => (library ??= load().then((result) => ('library' in result ? result.library : result.unavailable)));

      engine.hooks.decode.for(TOKEN).tapPromise({ name: LZ4_PLUGIN_NAME }, async (object, block) => {
        const lz4 = await get();
        if (typeof lz4 === 'string') throw unavailable(lz4, block);
        const limit = decodeLimit(object, block);
        checkLz4Frame(object.body, limit);
        const body = await lz4.decompressFrame(object.body);
        if (body.length > limit) throw new Error(`the LZ4 frame decompresses to ${body.length} bytes, more than the ${limit} allowed`);
        return { ...object, body };
      });
      if (!encode) return;

      engine.hooks.mount.tapPromise({ name: LZ4_PLUGIN_NAME }, async () => {
        const lz4 = await get();
        if (typeof lz4 === 'string') throw new S3BackerError('S3B_CODEC_UNAVAILABLE', `cannot compress blocks with lz4: ${lz4}`, { plugin: LZ4_PLUGIN_NAME, token: TOKEN });
      });
      engine.hooks.encode.tapPromise({ name: LZ4_PLUGIN_NAME, stage: Stage.COMPRESS }, async (object, block) => {
        const lz4 = await get();
        if (typeof lz4 === 'string') throw unavailable(lz4, block, true);
        return { body: await lz4.compressFrame(object.body, { contentChecksum: true }), encodings: [...object.encodings, TOKEN], metadata: object.metadata };
      });
    },
  };
}

/** No lz4 library, met on reading an lz4 block or (mount checks first, so only in theory) on writing one. */
function unavailable(reason: string, block: BlockContext, writing = false): S3BackerError {
  return new S3BackerError('S3B_CODEC_UNAVAILABLE',
    writing ? `cannot store object "${block.key}" with lz4: ${reason}` : `object "${block.key}" is stored with Content-Encoding "lz4", but ${reason}`,
    { block: block.block, plugin: LZ4_PLUGIN_NAME, token: TOKEN });
}

function checkOptions(options: Lz4PluginOptions): { encode: boolean } {
  const encode = checkCompressorOptions(LZ4_PLUGIN_NAME, options, 'allowed: { encode?: boolean }');
  if (options.level !== undefined) {
    throw new S3BackerError('S3B_CONFIG_INVALID', `lz4 has no compression levels (got level ${JSON.stringify(options.level)}): remove the level (--compress-level) or use --compress=deflate or --compress=zstd`, { plugin: LZ4_PLUGIN_NAME });
  }
  return { encode };
}
