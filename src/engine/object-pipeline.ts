import type { EngineHooks, BlockContext, EncodedObject } from './hooks.js';
import type { ObjectStore } from './object-store.js';
import type { BlockGeometry } from './block-geometry.js';
import { S3BackerError, isS3BackerError } from '../errors/s3backer-error.js';

/** Metadata the C tool puts on block 0 (and reads back to auto-detect the volume's geometry). */
export const FILE_SIZE_META = 's3backer-filesize';
export const BLOCK_SIZE_META = 's3backer-blocksize';
/** The C tool's Content-Type for block objects. */
export const BLOCK_CONTENT_TYPE = 'application/x-s3backer-block';

/** Content-Encoding tokens, as the C tool splits them: on commas and white space. */
export function parseContentEncoding(header: string | undefined): string[] {
  return header ? header.split(/[\s,]+/).filter(Boolean) : [];
}

/** Whether `data` is all zeros, compared (memcmp) against a zero buffer at least as long. */
export function isAllZero(data: Buffer, zeroBlock: Buffer): boolean {
  if (data.length <= zeroBlock.length) return data.equals(data.length === zeroBlock.length ? zeroBlock : zeroBlock.subarray(0, data.length));
  return data.every((byte) => byte === 0);
}

/**
 * Whole blocks to and from the store: encode on write (waterfall), decode on read by the tokens the
 * OBJECT records, right to left, never by the current config (this is what keeps old volumes and
 * C-written volumes readable). All-zero blocks are deleted, never stored; a missing object reads as
 * zeros (the C tool's format rule).
 */
export class ObjectPipeline {
  readonly zeroBlock: Buffer;

  constructor(
    private readonly store: ObjectStore,
    private readonly hooks: EngineHooks,
    readonly geometry: BlockGeometry,
    private readonly options: ObjectPipelineOptions = {},
  ) {
    this.zeroBlock = Buffer.alloc(geometry.blockSize);
  }

  isZero(data: Buffer): boolean {
    return isAllZero(data, this.zeroBlock);
  }

  /** A block's data: a fresh buffer of exactly blockSize bytes. */
  async read(block: number): Promise<Buffer> {
    return (await this.fetch(block)).data;
  }

  /**
   * A block's data and the ETag of the object it came from (undefined: no object, the block is
   * zeros). A cache keeps the ETag to check later, with `etag()`, that its copy is still current.
   */
  async fetch(block: number): Promise<{ data: Buffer; etag: string | undefined }> {
    const context = this.context(block);
    const stored = await storeCall(block, context.key, 'reading', this.store.get(context.key));
    if (!stored) return { data: Buffer.alloc(this.geometry.blockSize), etag: undefined };
    requireEtag(stored, block, context.key, 'reading', this.store.kind);
    // The C tool's --defaultContentEncoding: for stores that drop the header (http_io.c).
    const tokens = parseContentEncoding(stored.contentEncoding ?? this.options.defaultContentEncoding);
    let object: EncodedObject = { body: stored.body, encodings: tokens, metadata: stored.metadata };
    if (this.hooks.checkObject.isUsed()) await this.hooks.checkObject.promise(object, context);
    for (let i = tokens.length - 1; i >= 0; i--) {
      const token = tokens[i]!;
      const decoder = this.hooks.decode.get(token.toLowerCase());
      if (!decoder?.isUsed()) {
        throw new S3BackerError('S3B_UNKNOWN_ENCODING',
          `stored with Content-Encoding "${tokens.join(', ')}", but no configured plugin decodes "${token}"; ${unknownTokenAdvice(token)}`,
          { block, token });
      }
      try {
        object = await decoder.promise({ ...object, encodings: tokens.slice(0, i) }, context);
      } catch (error) {
        throw asDecodeError(error, block, token);
      }
    }
    if (object.body.length !== this.geometry.blockSize) {
      throw new S3BackerError('S3B_BLOCK_CORRUPT',
        `object "${context.key}" decodes to ${object.body.length} bytes, not the block size ${this.geometry.blockSize}; the object is truncated or the volume's --blockSize is wrong`,
        { block });
    }
    // Stores and codecs hand back buffers of their own, so the block needs no further copy.
    return { data: object.body, etag: stored.etag };
  }

  /** The ETag of a block's object, undefined when there is none (the block reads as zeros). */
  async etag(block: number): Promise<string | undefined> {
    const key = this.geometry.key(block);
    const info = await storeCall(block, key, 'checking', this.store.head(key));
    return info ? requireEtag(info, block, key, 'checking', this.store.kind) : undefined;
  }

  /**
   * Store a block (exactly blockSize bytes); all zeros delete its object instead. Resolves to the
   * stored object's ETag, or undefined when the object was deleted. `isZero`: the caller already
   * checked (the block tier does, once per write); left out, it is checked here.
   */
  async write(block: number, data: Buffer, isZero = this.isZero(data)): Promise<string | undefined> {
    const context = this.context(block);
    if (isZero) {
      await storeCall(block, context.key, 'deleting', this.store.delete(context.key));
      return undefined;
    }
    const metadata: Record<string, string> = block === 0
      ? { [BLOCK_SIZE_META]: String(this.geometry.blockSize), [FILE_SIZE_META]: String(this.geometry.size) }
      : {};
    const encoded = this.hooks.encode.isUsed()
      ? await this.hooks.encode.promise({ body: data, encodings: [], metadata }, context)
      : { body: data, encodings: [], metadata };
    // Never store what this configuration cannot read back (a half-configured codec, a token typo).
    for (const token of encoded.encodings) {
      if (!this.hooks.decode.get(token.toLowerCase())?.isUsed()) {
        throw new S3BackerError('S3B_CODEC_CONTRACT',
          `refusing to store "${context.key}" with Content-Encoding "${encoded.encodings.join(', ')}": no configured plugin decodes "${token}", so the block could never be read back; configure the codec's decoder too`,
          { block, token });
      }
    }
    const { etag } = await storeCall(block, context.key, 'storing', this.store.put(context.key, encoded.body, {
      metadata: { ...encoded.metadata },
      contentType: BLOCK_CONTENT_TYPE,
      ...(encoded.encodings.length > 0 ? { contentEncoding: encoded.encodings.join(', ') } : {}),
    }));
    return requireEtag({ etag }, block, context.key, 'storing', this.store.kind);
  }

  private context(block: number): BlockContext {
    return { block, key: this.geometry.key(block), blockSize: this.geometry.blockSize };
  }
}

export interface ObjectPipelineOptions {
  /** Tokens assumed for an object stored without a Content-Encoding (`--defaultContentEncoding`). */
  readonly defaultContentEncoding?: string | undefined;
}

/** What to tell the user about a token nothing decodes. */
function unknownTokenAdvice(token: string): string {
  if (/^encrypt-/i.test(token)) return `the volume is encrypted with ${token.slice(8).toUpperCase()}: mount with --encrypt=${token.slice(8).toUpperCase()} and its password`;
  return `add the plugin that handles "${token}" to the configuration`;
}

/**
 * A codec's failure names the block and the token: a foreign error (zlib's "incorrect header
 * check") arrives wrapped as S3B_PLUGIN_ERROR by the engine and becomes S3B_DECODE_FAILED; errors a
 * codec raised on purpose (S3B_AUTH_FAILED) keep their code.
 */
function asDecodeError(error: unknown, block: number, token: string): unknown {
  if (isS3BackerError(error) && error.code !== 'S3B_PLUGIN_ERROR') return error;
  const cause = isS3BackerError(error) ? (error.cause ?? error) : error;
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new S3BackerError('S3B_DECODE_FAILED',
    `the object does not decode as "${token}" (${reason}); it is corrupt or truncated in the store. Restore the block from a backup, or write it again to replace it`,
    { block, token, cause, ...(isS3BackerError(error) && error.plugin ? { plugin: error.plugin } : {}) });
}

/**
 * An ETag from the store, which the contract says every answer has: without one an object would
 * pass for "no object" (undefined is how a cache records a zero block) and read back as zeros.
 */
function requireEtag(answer: { etag?: unknown }, block: number, key: string, doing: string, kind: string): string {
  if (typeof answer.etag === 'string' && answer.etag !== '') return answer.etag;
  throw new S3BackerError('S3B_BACKEND_IO',
    `${doing} object "${key}": the ${kind} store answered without an ETag, which every answer must have; the store (or the server behind it) is not S3-compatible enough: check --baseURL or the store plugin`,
    { block });
}

/**
 * A store's failure names the block and the object it was for (`block 0000002a: storing
 * "0000002a": …`), whatever store raised it: stores know keys, not blocks.
 */
async function storeCall<T>(block: number, key: string, doing: string, call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    if (isS3BackerError(error) && error.block !== undefined) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new S3BackerError(isS3BackerError(error) ? error.code : 'S3B_BACKEND_IO', `${doing} object "${key}": ${reason}`, {
      block, cause: error,
      ...(isS3BackerError(error) && error.plugin !== undefined ? { plugin: error.plugin } : {}),
      ...(isS3BackerError(error) && error.retryable ? { retryable: true } : {}),
    });
  }
}
