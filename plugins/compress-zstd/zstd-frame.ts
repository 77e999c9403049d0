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

/**
 * Why `body` is not exactly one complete zstd frame, or undefined when it is: the frame header,
 * every block header (RFC 8878 §3.1.1.2) up to the last block, and the optional checksum must end
 * exactly at the end of `body`. node:zlib's streaming decoder does not check this: it returns what
 * it decoded so far from a truncated frame (0 bytes from a frame cut in its first block) and
 * ignores bytes after the frame, where ZSTD_decompress() (zstd-napi, the C tool) fails.
 */
export function zstdFrameProblem(body: Buffer): string | undefined {
  if (body.length < 5) return `${body.length} bytes are too short for a zstd frame`;
  if (body.readUInt32LE(0) !== ZSTD_MAGIC) return 'it does not start with the zstd magic number';
  const descriptor = body[4]!;
  if (descriptor & 0x08) return 'the frame header\'s reserved bit is set';
  const singleSegment = (descriptor >> 5) & 1;
  const headerLength = 5 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][descriptor & 3]! + [singleSegment ? 1 : 0, 2, 4, 8][descriptor >> 6]!;
  let at = headerLength;
  for (;;) {
    if (at + 3 > body.length) return `the frame is truncated (a block header at byte ${at} is missing)`;
    const header = body.readUIntLE(at, 3);
    const last = header & 1;
    const type = (header >> 1) & 3;
    const size = header >> 3;
    if (type === 3) return `block at byte ${at} has the reserved block type`;
    at += 3 + (type === 1 ? 1 : size);
    if (at > body.length) return `the frame is truncated (a block ends at byte ${at}, after the ${body.length} bytes)`;
    if (last) break;
  }
  if (descriptor & 0x04) at += 4;
  if (at !== body.length) return at > body.length ? 'the frame is truncated (its checksum is missing)' : `${body.length - at} bytes follow the frame`;
  return undefined;
}
