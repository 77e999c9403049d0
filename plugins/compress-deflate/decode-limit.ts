import type { BlockContext, EncodedObject } from 's3backer';

/**
 * The most bytes a decompressor may produce for `object`, so that a small stored body that
 * expands without end (a "zip bomb", or plain corruption) can never make us allocate more.
 *
 * Innermost codec (no token before ours: ours was applied first on write): the result IS the
 * block, so the limit is exactly the block size, as in the C tool, which decompresses into a
 * buffer of `block_size` bytes and fails an oversize result (http_io.c, compress.c: Z_BUF_ERROR
 * "decompressed block is oversize"; ZSTD_decompress into `block_size`). In the C tool compression
 * is always innermost.
 *
 * Not innermost (a third-party encode tap ran before compression, at a stage below COMPRESS): our
 * output is that codec's body, which may be somewhat larger than a block (a header, padding). The
 * limit then only has to be finite: twice the block size plus 64 KiB covers any sane framing.
 *
 * Shared by the deflate, zstd and lz4 plugins (one rule, one place).
 */
export function decodeLimit(object: EncodedObject, block: BlockContext): number {
  return object.encodings.length === 0 ? block.blockSize : 2 * block.blockSize + 64 * 1024;
}
