// The codec benchmark's data: what a filesystem on the volume holds, not random bytes only (random
// data makes every compressor look fast and useless, zeros make it look magic). A pool of 16 MiB
// built from 32 KiB pieces in the repeating order text, text, binary, incompressible:
//   text            source code, type declarations, JSON and docs: the start (up to 64 KiB) of
//                   every file with a text extension under node_modules/, walked in sorted order
//   binary          x86-64 machine code and data: a stretch of the running node executable
//   incompressible  media and archives: an AES-128-CTR keystream under a fixed key (deterministic)
// so half the bytes are text, a quarter code, a quarter incompressible; a 64 KiB block is either
// two text pieces or binary + incompressible, a 1 MiB block the average. Block i of a run is the
// pool at (i * blockSize) mod 16 MiB.
import { createCipheriv } from 'node:crypto';
import { openSync, readSync, closeSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { KiB, MiB } from './bench-options.js';

export const POOL_BYTES = 16 * MiB;
const PIECE = 32 * KiB;
const PER_FILE = 64 * KiB;
const TEXT_EXTENSIONS = /\.(js|mjs|cjs|ts|mts|cts|json|md|txt|map|yml|yaml|css|html|c|h|cc|gyp|py)$/i;
/** Where the binary stretch starts in the node executable: past the ELF headers, inside its code. */
const BINARY_OFFSET = 16 * MiB;

export interface CodecData {
  pool: Buffer;
  description: string;
  /** Bytes of each kind in the pool. */
  composition: { text: number; binary: number; incompressible: number };
  /** Files the text came from. */
  textFiles: number;
}

function* textFiles(dir: string): Generator<string> {
  let entries: string[];
  try {
    entries = readdirSync(dir).sort();
  } catch {
    return;
  }
  for (const name of entries) {
    const path = join(dir, name);
    let stat;
    try {
      stat = statSync(path);
    } catch {
      continue;
    }
    if (stat.isDirectory()) yield* textFiles(path);
    else if (stat.isFile() && stat.size > 0 && TEXT_EXTENSIONS.test(name)) yield path;
  }
}

function readInto(path: string, target: Buffer, offset: number, length: number, position: number): number {
  const fd = openSync(path, 'r');
  try {
    let done = 0;
    while (done < length) {
      const n = readSync(fd, target, offset + done, length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  } finally {
    closeSync(fd);
  }
}

export function buildCodecData(root = resolve('node_modules')): CodecData {
  const text = Buffer.alloc(POOL_BYTES / 2);
  let filled = 0;
  let files = 0;
  for (const path of textFiles(root)) {
    if (filled >= text.length) break;
    filled += readInto(path, text, filled, Math.min(PER_FILE, text.length - filled), 0);
    files++;
  }
  if (filled < text.length) throw new Error(`codec benchmark: only ${filled} bytes of text files under ${root} (need ${text.length}); run npm install first`);

  const binary = Buffer.alloc(POOL_BYTES / 4);
  const got = readInto(process.execPath, binary, 0, binary.length, BINARY_OFFSET);
  if (got < binary.length) readInto(process.execPath, binary, got, binary.length - got, 0);

  const keystream = createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), Buffer.alloc(16, 0));
  const incompressible = keystream.update(Buffer.alloc(POOL_BYTES / 4));

  const pool = Buffer.alloc(POOL_BYTES);
  const sources = [text, text, binary, incompressible];
  const taken = [0, 0, 0];
  for (let at = 0, i = 0; at < POOL_BYTES; at += PIECE, i++) {
    const kind = [0, 0, 1, 2][i % 4]!;
    const source = sources[i % 4]!;
    source.copy(pool, at, taken[kind], taken[kind]! + PIECE);
    taken[kind]! += PIECE;
  }
  return {
    pool,
    composition: { text: text.length, binary: binary.length, incompressible: incompressible.length },
    textFiles: files,
    description: `16 MiB pool of 32 KiB pieces: 50% text (first ≤64 KiB of ${files} text files under node_modules/, sorted), ` +
      `25% x86-64 code (${process.execPath} from ${BINARY_OFFSET / MiB} MiB), 25% incompressible (AES-CTR keystream)`,
  };
}

/** Block `i` of a run: a view of the pool (never written into). */
export function blockOf(data: CodecData, blockSize: number, i: number): Buffer {
  const at = (i * blockSize) % data.pool.length;
  return data.pool.subarray(at, at + blockSize);
}
