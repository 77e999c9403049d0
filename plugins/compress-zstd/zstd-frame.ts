/** The magic number that starts every zstd frame (RFC 8878 §3.1.1), little-endian 0xFD2FB528. */
const ZSTD_MAGIC = 0xfd2fb528;

/**
 * The Frame_Content_Size a zstd frame header records (RFC 8878 §3.1.1.1), or undefined when the
 * frame does not record one (or `frame` is not a zstd frame). `ZSTD_compress()`, which the C tool
 * calls, always records it; this checks that a streaming compressor did too.
 */
export function zstdFrameContentSize(frame: Buffer): number | undefined {
  if (frame.length < 5 || frame.readUInt32LE(0) !== ZSTD_MAGIC) return undefined;
  const descriptor = frame[4]!;
  const sizeFlag = descriptor >> 6;
  const singleSegment = (descriptor >> 5) & 1;
  const dictIdBytes = [0, 1, 2, 4][descriptor & 3]!;
  const sizeBytes = [singleSegment ? 1 : 0, 2, 4, 8][sizeFlag]!;
  if (sizeBytes === 0) return undefined;
  const at = 5 + (singleSegment ? 0 : 1) + dictIdBytes;
  if (frame.length < at + sizeBytes) return undefined;
  switch (sizeBytes) {
    case 1: return frame[at]!;
    case 2: return frame.readUInt16LE(at) + 256;
    case 4: return frame.readUInt32LE(at);
    default: return Number(frame.readBigUInt64LE(at));
  }
}
