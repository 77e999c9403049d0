/** LZ4 frame magic number (lz4_Frame_format.md: 0x184D2204, little-endian). */
const LZ4_FRAME_MAGIC = 0x184d2204;
/** Block Maximum Size by the BD byte's 3-bit id: 4 = 64 KiB, 5 = 256 KiB, 6 = 1 MiB, 7 = 4 MiB. */
const MAX_BLOCK_SIZES: Readonly<Record<number, number>> = { 4: 64 << 10, 5: 256 << 10, 6: 1 << 20, 7: 4 << 20 };

/**
 * Check, before decompressing, that `frame` is exactly one LZ4 frame whose output cannot be much
 * larger than `limit` bytes. lz4-napi's `decompressFrame` takes no output limit, so this is what
 * keeps a hostile or corrupt body from allocating without bound.
 *
 * The frame's structure gives the bound without decompressing: each data block yields at most the
 * frame's Block Maximum Size (an uncompressed block exactly its size). A compressor fills every
 * block but the last, so the blocks before the last must yield less than `limit`; the whole frame
 * then yields less than `limit` + one block (at most 4 MiB more). Throws an Error saying what is
 * wrong (the pipeline reports it as S3B_DECODE_FAILED naming the block).
 */
export function checkLz4Frame(frame: Buffer, limit: number): void {
  if (frame.length < 7 || frame.readUInt32LE(0) !== LZ4_FRAME_MAGIC) throw new Error('not an LZ4 frame (no LZ4 frame magic number)');
  const flags = frame[4]!;
  const descriptor = frame[5]!;
  if (flags >> 6 !== 1) throw new Error(`unsupported LZ4 frame version ${flags >> 6}`);
  const maxBlockSize = MAX_BLOCK_SIZES[(descriptor >> 4) & 7];
  if (maxBlockSize === undefined || (descriptor & 0x8f) !== 0 || (flags & 0x02) !== 0) throw new Error('invalid LZ4 frame descriptor');
  const blockChecksums = (flags & 0x10) !== 0;
  const hasContentSize = (flags & 0x08) !== 0;
  const contentChecksum = (flags & 0x04) !== 0;
  const hasDictId = (flags & 0x01) !== 0;
  let at = 6;
  if (hasContentSize) {
    if (frame.length < at + 8) throw new Error('truncated LZ4 frame header');
    const contentSize = frame.readBigUInt64LE(at);
    if (contentSize > BigInt(limit)) throw new Error(`LZ4 frame declares ${contentSize} bytes of content, more than the ${limit} allowed`);
    at += 8;
  }
  if (hasDictId) at += 4;
  at += 1; // header checksum (the decompressor verifies it)
  let before = 0; // what the blocks before the current one can yield
  let current = 0; // what the current (so far last) block can yield
  for (;;) {
    if (frame.length < at + 4) throw new Error('truncated LZ4 frame (no end mark)');
    const word = frame.readUInt32LE(at);
    at += 4;
    if (word === 0) break;
    const size = word & 0x7fffffff;
    const uncompressed = (word & 0x80000000) !== 0;
    if (size > maxBlockSize) throw new Error(`LZ4 block of ${size} bytes exceeds the frame's maximum block size ${maxBlockSize}`);
    before += current;
    if (before >= limit) throw new Error(`LZ4 frame holds more than the ${limit} bytes allowed`);
    current = uncompressed ? size : maxBlockSize;
    at += size + (blockChecksums ? 4 : 0);
  }
  if (contentChecksum) at += 4;
  if (at !== frame.length) throw new Error(at > frame.length ? 'truncated LZ4 frame' : `${frame.length - at} bytes after the LZ4 frame`);
}
