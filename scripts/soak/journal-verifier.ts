import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CHUNK_SIZE, SECTOR_SIZE, chunkContent, chunkWrite } from './chunk-content.js';
import { isSynced, type JournalFile, type JournalState } from './write-journal.js';

export interface VerifyFigures {
  /** Files the journal says must exist, and were checked. */
  files: number;
  /** Chunks some completed fsync covered, all found intact. */
  chunks: number;
  bytes: number;
  /** Of those, chunks holding a later write than the fsync covered (allowed: it was written, just not yet synced). */
  newer: number;
  /** Chunks mixing sectors of the covered write and later ones (allowed after a power cut, which tears at sector size). */
  torn: number;
  /** The first few torn chunks: which write each sector holds. */
  tornDetails: string[];
  /** What a completed fsync covered and is not there: each a lost write. */
  failures: string[];
}

/**
 * Check the ext4 mounted at `root` against the journal: every file whose creation completed
 * exists, every file whose unlink completed does not, and every chunk that a completed fsync
 * covered holds that write, or a later one of the same chunk (written after the fsync, so it may
 * or may not have reached the disk), or, sector by sector, a mix of those. Nothing else passes:
 * not an older write, not zeros, not another chunk's bytes.
 */
export async function verifyJournal(root: string, state: JournalState): Promise<VerifyFigures> {
  const figures: VerifyFigures = { files: 0, chunks: 0, bytes: 0, newer: 0, torn: 0, tornDetails: [], failures: [] };
  const present = new Set((await readdir(root)).filter((name) => name !== 'lost+found'));
  for (const name of present) {
    if (!state.files.has(name)) figures.failures.push(`${name}: a file the writer never created`);
  }
  for (const file of state.files.values()) {
    if (file.status === 'unlinked') {
      if (present.has(file.name)) figures.failures.push(`${file.name}: its unlink and the directory's fsync completed, yet it is back`);
      continue;
    }
    // An unfinished creation or unlink may have reached the disk or not.
    if (file.status !== 'created') continue;
    if (!present.has(file.name)) {
      figures.failures.push(`${file.name}: created and its directory fsynced, yet missing`);
      continue;
    }
    figures.files++;
    checkFile(file, await readFile(join(root, file.name)), figures);
  }
  return figures;
}

function checkFile(file: JournalFile, data: Buffer, figures: VerifyFigures): void {
  for (const [chunk, writes] of file.writes) {
    const covered = writes.filter((w) => isSynced(file, w)).at(-1);
    if (covered === undefined) continue;
    const where = `${file.name} chunk ${chunk} (file offset ${chunk * CHUNK_SIZE})`;
    if (data.length < (chunk + 1) * CHUNK_SIZE) {
      figures.failures.push(`${where}: fsync covered write ${covered}, but the file ends at ${data.length} bytes`);
      continue;
    }
    const bytes = data.subarray(chunk * CHUNK_SIZE, (chunk + 1) * CHUNK_SIZE);
    const allowed = writes.filter((w) => w >= covered);
    const found = chunkWrite(bytes, file.name, chunk);
    figures.chunks++;
    figures.bytes += CHUNK_SIZE;
    if (found !== undefined && allowed.includes(found) && bytes.equals(chunkContent(file.name, chunk, found))) {
      if (found > covered) figures.newer++;
      continue;
    }
    const contents = allowed.map((w) => chunkContent(file.name, chunk, w));
    const badSector = sectors().find((at) => !contents.some((content) => content.subarray(at, at + SECTOR_SIZE).equals(bytes.subarray(at, at + SECTOR_SIZE))));
    if (badSector === undefined) {
      figures.torn++;
      if (figures.tornDetails.length < TORN_DETAILS) {
        const bySector = sectors().map((at) => allowed.filter((_, i) => contents[i]!.subarray(at, at + SECTOR_SIZE).equals(bytes.subarray(at, at + SECTOR_SIZE))).join('|'));
        figures.tornDetails.push(`${where}: fsync covered write ${covered}; its sectors hold writes ${bySector.join(' ')}`);
      }
      continue;
    }
    const holds = found === undefined
      ? (bytes.every((byte) => byte === 0) ? 'zeros' : `no header of this chunk (${bytes.subarray(0, 24).toString('hex')})`)
      : `write ${found}`;
    figures.failures.push(`${where}: fsync covered write ${covered} (later ones allowed: ${allowed.slice(1).join(', ') || 'none'}), ` +
      `but it holds ${holds}; first bad sector at chunk offset ${badSector}`);
  }
}

const TORN_DETAILS = 5;

function sectors(): number[] {
  return Array.from({ length: CHUNK_SIZE / SECTOR_SIZE }, (_, i) => i * SECTOR_SIZE);
}
