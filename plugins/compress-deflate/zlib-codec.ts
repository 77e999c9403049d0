import { deflate, inflate, type InputType, type ZlibOptions } from 'node:zlib';
import { promisify } from 'node:util';

// The async forms run on libuv's thread pool, so several blocks compress on several cores at
// once and the event loop stays free; the *Sync forms would serialise every block on the main
// thread.
const deflateAsync = promisify<InputType, ZlibOptions, Buffer>(deflate);
const inflateAsync = promisify<InputType, ZlibOptions, Buffer>(inflate);

/**
 * One block in the zlib format (RFC 1950: 2-byte header, deflate data, Adler-32 trailer), as the
 * C tool's zlib `compress2(level)` writes it (compress.c, deflate_compress): Node's zlib with the
 * same level and its defaults (windowBits 15, memLevel 8, default strategy) makes the same bytes,
 * checked against the C tool's objects in test/fixtures/c-s3backer.
 */
export function zlibCompress(data: Buffer, level: number): Promise<Buffer> {
  return deflateAsync(data, { level, chunkSize: compressBound(data.length) });
}

/**
 * zlib's compressBound(): the largest a zlib stream of `length` bytes can be. As the output chunk
 * size it lets one pass on the thread pool produce the whole body: with Node's default 16 KiB
 * chunks, a 1 MiB block took one thread-pool round trip per 16 KiB, several times slower.
 */
function compressBound(length: number): number {
  return length + (length >>> 12) + (length >>> 14) + (length >>> 25) + 13;
}

/**
 * Inflate a zlib-format body (header and Adler-32 checked, so a flipped or missing byte rejects),
 * producing at most `limit` bytes: more rejects (Node's ERR_BUFFER_TOO_LARGE) instead of
 * allocating what a hostile body asks for, like the C tool's `uncompress()` into a buffer of
 * `block_size` bytes (compress.c, deflate_decompress: Z_BUF_ERROR "decompressed block is oversize").
 */
export function zlibDecompress(body: Buffer, limit: number): Promise<Buffer> {
  // One output chunk with room for the whole block: a single pass on the thread pool (see
  // compressBound). The spare byte matters: a block that fills its chunk exactly would cost a
  // second pass (and a second chunk) just to learn the stream has ended.
  return inflateAsync(body, { maxOutputLength: limit, chunkSize: limit + 1 });
}
