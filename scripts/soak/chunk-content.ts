import { seededRandom } from '../../plugins/chaos/seeded-random.js';

/**
 * What the crash loop's writer puts in a file chunk, a function of (file, chunk, write number)
 * alone, so the verifier regenerates the expected bytes from the journal instead of storing them
 * (fio's --verify does the same with its header and seeded pattern). The header says which write
 * a chunk holds; the rest is a seeded pattern, so a stale, torn or misplaced chunk never matches.
 */
export const CHUNK_SIZE = 4096;
/** The smallest unit a power cut may leave half old, half new (a disk sector). */
export const SECTOR_SIZE = 512;
const MAGIC = 'S3BCRASH';
const HEADER_SIZE = 24;

/** FNV-1a of a file name: the file's id in its chunks' headers. */
export function fileId(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}

export function chunkContent(file: string, chunk: number, write: number): Buffer {
  const id = fileId(file);
  const data = Buffer.allocUnsafe(CHUNK_SIZE);
  data.write(MAGIC, 0, 'latin1');
  data.writeUInt32LE(id, 8);
  data.writeUInt32LE(chunk, 12);
  data.writeDoubleLE(write, 16);
  const random = seededRandom((id ^ Math.imul(chunk + 1, 0x9e3779b9) ^ Math.imul(write, 0x85ebca6b)) >>> 0);
  for (let at = HEADER_SIZE; at < CHUNK_SIZE; at += 4) data.writeUInt32LE(Math.floor(random() * 4294967296), at);
  return data;
}

/** The write number a chunk's header names, or undefined when the header is not ours for this file and chunk. */
export function chunkWrite(data: Buffer, file: string, chunk: number): number | undefined {
  if (data.length < HEADER_SIZE || data.toString('latin1', 0, 8) !== MAGIC) return undefined;
  if (data.readUInt32LE(8) !== fileId(file) || data.readUInt32LE(12) !== chunk) return undefined;
  return data.readDoubleLE(16);
}
