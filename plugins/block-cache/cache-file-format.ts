import { createHash } from 'node:crypto';

/**
 * The on-disk layout of a block cache file (`--blockCacheFile`), documented byte by byte in
 * docs/format.md, "Block cache file". Everything is little-endian with fixed field sizes, so a
 * file moves between machines (the C tool's dcache file is native-endian and is not portable).
 * This module only encodes and decodes bytes; `FileCacheStorage` decides when they are written.
 *
 * ```
 * [ header region, 4096 bytes: header copy A at 0, header copy B at 512, zeros ]
 * [ directory: one 64-byte entry per slot ]
 * [ zeros up to a multiple of 4096 ]
 * [ data slot 0 … slot N-1, each exactly blockSize bytes ]
 * ```
 */

export const MAGIC = Buffer.from('S3BCACHE', 'latin1');
export const FORMAT_VERSION = 1;

/** The header region is one page; the directory starts after it. */
export const HEADER_REGION_SIZE = 4096;
/** One header copy fits in one 512-byte sector; two copies so a torn header update leaves the other. */
export const HEADER_COPY_SIZE = 512;
export const HEADER_COPY_OFFSETS = [0, HEADER_COPY_SIZE] as const;
/** 64-byte entries never straddle a 512-byte sector, so one entry write is one sector write. */
export const ENTRY_SIZE = 64;
/** Data starts on a multiple of this (fixed, not the machine's page size, so files stay portable). */
export const DATA_ALIGN = 4096;
/** Longest ETag an entry holds (S3's are 34 bytes, multipart ones up to 40); longer ones are not persisted. */
export const MAX_ETAG_BYTES = 44;
/** Longest volume id text kept for messages; the comparison uses the SHA-256 of the whole id. */
export const MAX_VOLUME_ID_TEXT_BYTES = 400;

/** Header field offsets (within one copy). */
const H_MAGIC = 0;
const H_VERSION = 8;
const H_COPY_SIZE = 12;
const H_SEQUENCE = 16;
const H_BLOCK_SIZE = 24;
const H_SLOT_COUNT = 28;
const H_ENTRY_SIZE = 32;
const H_DIRECTORY_OFFSET = 36;
const H_DATA_OFFSET = 40;
const H_MOUNT_TOKEN = 48;
const H_FLAGS = 52;
const H_VOLUME_HASH = 56;
const H_VOLUME_TEXT_LENGTH = 88;
const H_VOLUME_TEXT = 90;
const H_CHECKSUM = HEADER_COPY_SIZE - 4;

/** Entry field offsets. */
const E_GENERATION = 0;
const E_BLOCK = 8;
const E_STATE = 12;
const E_ETAG_LENGTH = 13;
const E_FLAGS = 14;
const E_ETAG = 16;
const E_CHECKSUM = ENTRY_SIZE - 4;

const ENTRY_FLAG_HAS_ETAG = 0x01;

export const enum EntryState {
  CLEAN = 1,
  DIRTY = 2,
}

// ---- CRC-32C (Castagnoli): detects torn and garbage headers and entries ----

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32C, reflected polynomial 0x82F63B78, init and final XOR 0xFFFFFFFF ("123456789" → 0xE3069283). */
export function crc32c(data: Uint8Array, start = 0, end = data.length): number {
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) crc = CRC32C_TABLE[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

// ---- layout arithmetic ----

export function directoryOffset(): number {
  return HEADER_REGION_SIZE;
}

export function dataOffset(slotCount: number): number {
  const end = HEADER_REGION_SIZE + slotCount * ENTRY_SIZE;
  return Math.ceil(end / DATA_ALIGN) * DATA_ALIGN;
}

export function entryOffset(slot: number): number {
  return HEADER_REGION_SIZE + slot * ENTRY_SIZE;
}

export function slotOffset(slotCount: number, blockSize: number, slot: number): number {
  return dataOffset(slotCount) + slot * blockSize;
}

export function fileSize(slotCount: number, blockSize: number): number {
  return dataOffset(slotCount) + slotCount * blockSize;
}

/** u64 fields hold values below 2^53 (JavaScript's safe integers); larger ones are treated as garbage. */
function writeU64(buffer: Buffer, value: number, offset: number): void {
  buffer.writeUInt32LE(value % 0x1_0000_0000, offset);
  buffer.writeUInt32LE(Math.floor(value / 0x1_0000_0000), offset + 4);
}

function readU64(buffer: Buffer, offset: number): number | undefined {
  const high = buffer.readUInt32LE(offset + 4);
  if (high >= 0x20_0000) return undefined;
  return high * 0x1_0000_0000 + buffer.readUInt32LE(offset);
}

// ---- header ----

export function volumeIdHash(id: string): Buffer {
  return createHash('sha256').update(id, 'utf8').digest();
}

export interface CacheFileHeader {
  /** Higher is newer: of the two copies, the valid one with the higher sequence is current. */
  readonly sequence: number;
  readonly blockSize: number;
  readonly slotCount: number;
  /** 0: no mount recorded, or the last one closed cleanly. */
  readonly mountToken: number;
  readonly volumeHash: Buffer;
  /** The volume id as recorded (cut to MAX_VOLUME_ID_TEXT_BYTES), for messages. */
  readonly volumeText: string;
}

/** Cut UTF-8 text to at most `max` bytes without splitting a character. */
function utf8Prefix(text: string, max: number): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= max) return bytes;
  let end = max;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

export function encodeHeader(header: Omit<CacheFileHeader, 'volumeHash' | 'volumeText'> & { volumeId: string }): Buffer {
  const buffer = Buffer.alloc(HEADER_COPY_SIZE);
  MAGIC.copy(buffer, H_MAGIC);
  buffer.writeUInt32LE(FORMAT_VERSION, H_VERSION);
  buffer.writeUInt32LE(HEADER_COPY_SIZE, H_COPY_SIZE);
  writeU64(buffer, header.sequence, H_SEQUENCE);
  buffer.writeUInt32LE(header.blockSize, H_BLOCK_SIZE);
  buffer.writeUInt32LE(header.slotCount, H_SLOT_COUNT);
  buffer.writeUInt32LE(ENTRY_SIZE, H_ENTRY_SIZE);
  buffer.writeUInt32LE(directoryOffset(), H_DIRECTORY_OFFSET);
  writeU64(buffer, dataOffset(header.slotCount), H_DATA_OFFSET);
  buffer.writeUInt32LE(header.mountToken >>> 0, H_MOUNT_TOKEN);
  buffer.writeUInt32LE(0, H_FLAGS);
  volumeIdHash(header.volumeId).copy(buffer, H_VOLUME_HASH);
  const text = utf8Prefix(header.volumeId, MAX_VOLUME_ID_TEXT_BYTES);
  buffer.writeUInt16LE(text.length, H_VOLUME_TEXT_LENGTH);
  text.copy(buffer, H_VOLUME_TEXT);
  buffer.writeUInt32LE(crc32c(buffer, 0, H_CHECKSUM), H_CHECKSUM);
  return buffer;
}

/** Why one header copy is not usable; the most telling reason across both copies is reported. */
export type HeaderProblem =
  | { readonly kind: 'empty' }
  | { readonly kind: 'magic' }
  | { readonly kind: 'version'; readonly version: number }
  | { readonly kind: 'corrupt'; readonly detail: string };

export type DecodedHeader = { readonly ok: true; readonly header: CacheFileHeader } | { readonly ok: false; readonly problem: HeaderProblem };

export function decodeHeader(copy: Buffer): DecodedHeader {
  if (copy.every((byte) => byte === 0)) return { ok: false, problem: { kind: 'empty' } };
  if (copy.length < MAGIC.length || !copy.subarray(H_MAGIC, H_MAGIC + MAGIC.length).equals(MAGIC)) return { ok: false, problem: { kind: 'magic' } };
  if (copy.length < HEADER_COPY_SIZE) return { ok: false, problem: { kind: 'corrupt', detail: 'the file ends inside the header' } };
  // The version is checked before the checksum: a later format may place its checksum elsewhere.
  const version = copy.readUInt32LE(H_VERSION);
  if (version !== FORMAT_VERSION) return { ok: false, problem: { kind: 'version', version } };
  if (crc32c(copy, 0, H_CHECKSUM) !== copy.readUInt32LE(H_CHECKSUM)) return { ok: false, problem: { kind: 'corrupt', detail: 'header checksum mismatch' } };
  const corrupt = (detail: string): DecodedHeader => ({ ok: false, problem: { kind: 'corrupt', detail } });
  if (copy.readUInt32LE(H_COPY_SIZE) !== HEADER_COPY_SIZE) return corrupt('header size field');
  if (copy.readUInt32LE(H_ENTRY_SIZE) !== ENTRY_SIZE) return corrupt('entry size field');
  if (copy.readUInt32LE(H_DIRECTORY_OFFSET) !== directoryOffset()) return corrupt('directory offset field');
  if (copy.readUInt32LE(H_FLAGS) !== 0) return corrupt('unknown header flags');
  const sequence = readU64(copy, H_SEQUENCE);
  const slotCount = copy.readUInt32LE(H_SLOT_COUNT);
  if (sequence === undefined || slotCount === 0) return corrupt('sequence or slot count field');
  if (readU64(copy, H_DATA_OFFSET) !== dataOffset(slotCount)) return corrupt('data offset field');
  const textLength = copy.readUInt16LE(H_VOLUME_TEXT_LENGTH);
  if (textLength > MAX_VOLUME_ID_TEXT_BYTES) return corrupt('volume id length field');
  return {
    ok: true,
    header: {
      sequence,
      blockSize: copy.readUInt32LE(H_BLOCK_SIZE),
      slotCount,
      mountToken: copy.readUInt32LE(H_MOUNT_TOKEN),
      volumeHash: Buffer.from(copy.subarray(H_VOLUME_HASH, H_VOLUME_HASH + 32)),
      volumeText: copy.toString('utf8', H_VOLUME_TEXT, H_VOLUME_TEXT + textLength),
    },
  };
}

/**
 * The current header of a header region (its first HEADER_REGION_SIZE bytes, or fewer for a short
 * file): the valid copy with the higher sequence, and its index (the next update goes to the other).
 */
export function currentHeader(region: Buffer): { ok: true; header: CacheFileHeader; copy: number } | { ok: false; problem: HeaderProblem } {
  let best: { header: CacheFileHeader; copy: number } | undefined;
  let worst: HeaderProblem = { kind: 'empty' };
  const rank = { empty: 0, magic: 1, corrupt: 2, version: 3 } as const;
  HEADER_COPY_OFFSETS.forEach((offset, copy) => {
    const decoded = decodeHeader(region.subarray(offset, offset + HEADER_COPY_SIZE));
    if (decoded.ok) {
      if (best === undefined || decoded.header.sequence > best.header.sequence) best = { header: decoded.header, copy };
    } else if (rank[decoded.problem.kind] > rank[worst.kind]) {
      worst = decoded.problem;
    }
  });
  return best !== undefined ? { ok: true, ...best } : { ok: false, problem: worst };
}

// ---- directory entries ----

export interface CacheFileEntry {
  /** From one counter per file, higher is newer: decides between two entries naming one block. */
  readonly generation: number;
  readonly block: number;
  readonly dirty: boolean;
  /** Clean blocks only; undefined: the block had no object (zeros). */
  readonly etag: string | undefined;
}

/** A free entry is 64 zero bytes: a new (sparse) directory is all free without being written. */
export const FREE_ENTRY: Buffer = Buffer.alloc(ENTRY_SIZE);

/** Whether an ETag fits an entry; a clean block whose ETag does not fit is kept in memory only. */
export function etagFits(etag: string | undefined): boolean {
  return etag === undefined || Buffer.byteLength(etag, 'utf8') <= MAX_ETAG_BYTES;
}

export function encodeEntry(entry: CacheFileEntry): Buffer {
  const buffer = Buffer.alloc(ENTRY_SIZE);
  writeU64(buffer, entry.generation, E_GENERATION);
  buffer.writeUInt32LE(entry.block, E_BLOCK);
  buffer.writeUInt8(entry.dirty ? EntryState.DIRTY : EntryState.CLEAN, E_STATE);
  if (!entry.dirty && entry.etag !== undefined) {
    const etag = Buffer.from(entry.etag, 'utf8');
    if (etag.length > MAX_ETAG_BYTES) throw new RangeError(`ETag of ${etag.length} bytes does not fit a cache file entry`);
    buffer.writeUInt8(etag.length, E_ETAG_LENGTH);
    buffer.writeUInt8(ENTRY_FLAG_HAS_ETAG, E_FLAGS);
    etag.copy(buffer, E_ETAG);
  }
  buffer.writeUInt32LE(crc32c(buffer, 0, E_CHECKSUM), E_CHECKSUM);
  return buffer;
}

export type DecodedEntry = { readonly kind: 'free' } | { readonly kind: 'torn' } | { readonly kind: 'entry'; readonly entry: CacheFileEntry };

/** Decode one entry: free (all zeros), torn (checksum or fields wrong: ignored), or a valid entry. */
export function decodeEntry(bytes: Buffer): DecodedEntry {
  if (bytes.every((byte) => byte === 0)) return { kind: 'free' };
  if (crc32c(bytes, 0, E_CHECKSUM) !== bytes.readUInt32LE(E_CHECKSUM)) return { kind: 'torn' };
  const generation = readU64(bytes, E_GENERATION);
  const state = bytes.readUInt8(E_STATE);
  const etagLength = bytes.readUInt8(E_ETAG_LENGTH);
  const flags = bytes.readUInt8(E_FLAGS);
  if (generation === undefined || generation === 0 || (state !== EntryState.CLEAN && state !== EntryState.DIRTY)) return { kind: 'torn' };
  if ((flags & ~ENTRY_FLAG_HAS_ETAG) !== 0 || etagLength > MAX_ETAG_BYTES) return { kind: 'torn' };
  const hasEtag = (flags & ENTRY_FLAG_HAS_ETAG) !== 0;
  if (state === EntryState.DIRTY && (hasEtag || etagLength !== 0)) return { kind: 'torn' };
  return {
    kind: 'entry',
    entry: {
      generation,
      block: bytes.readUInt32LE(E_BLOCK),
      dirty: state === EntryState.DIRTY,
      etag: hasEtag ? bytes.toString('utf8', E_ETAG, E_ETAG + etagLength) : undefined,
    },
  };
}
