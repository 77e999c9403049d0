// The crash loop's writer (scripts/crash-loop.ts), a process of its own as an application would be:
// overwrites chunks of a few data files (buffered, and a share with O_DIRECT, which reaches s3backer
// at once without a flush, so a kill finds dirty blocks in its cache) and appends to a log file on
// the ext4 under test, fsyncs now and then, and records in the journal (write-journal.ts) what it is about to write and what
// each completed fsync covered. It stops at the first error (the disk went away: s3backer was
// killed) and says where it stopped.
// Usage: node checksummed-writer.js DIR JOURNAL ROUND SEED FILES CHUNKS MAX_MS
import { closeSync, fdatasyncSync, fsyncSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { seededRandom } from '../../plugins/chaos/seeded-random.js';
import { CHUNK_SIZE, chunkContent } from './chunk-content.js';
import { JournalWriter, loadJournal, type JournalRecord } from './write-journal.js';

/** Log files of rounds this far back are deleted, so the disk never fills and ext4 frees and reuses blocks. */
const KEEP_LOG_ROUNDS = 3;
/** Most chunks one write covers. */
const MAX_RUN = 8;
/** Share of data-file writes made with O_DIRECT. */
const DIRECT_SHARE = 0.5;

export const dataFileName = (index: number) => `data-${index}`;
export const logFileName = (round: number) => `log-${round}`;

function main(argv: readonly string[]): void {
  const [dir, journalPath, roundText, seedText, filesText, chunksText, maxMsText] = argv;
  if (maxMsText === undefined) throw new Error('usage: checksummed-writer DIR JOURNAL ROUND SEED FILES CHUNKS MAX_MS');
  const [round, seed, files, chunks, maxMs] = [roundText, seedText, filesText, chunksText, maxMsText].map(Number) as [number, number, number, number, number];
  const state = loadJournal(journalPath!);
  const journal = new JournalWriter(journalPath!);
  const random = seededRandom(seed);
  let write = state.lastWrite;
  /** This writer's first write number: its fsyncs cover its own writes, not those an earlier crash may have lost. */
  const firstWrite = write + 1;
  let writes = 0;
  let syncs = 0;
  const record = (entry: JournalRecord) => journal.append(entry);
  const dirFd = openSync(dir!, 'r');
  const path = (name: string) => join(dir!, name);

  /** Write chunks [c, c + n) of `name` as write number w, announced first. */
  const writeChunks = (fd: number, name: string, c: number, n: number) => {
    const w = ++write;
    record({ t: 'write', f: name, c, n, w });
    const data = Buffer.concat(Array.from({ length: n }, (_, i) => chunkContent(name, c + i, w)));
    writeSync(fd, data, 0, data.length, c * CHUNK_SIZE);
    writes++;
  };
  /**
   * The same, with O_DIRECT: Node cannot allocate the aligned buffers O_DIRECT needs, dd can. The
   * chunks go through ext4 to the disk now, not at the next fsync; no flush follows.
   */
  const writeChunksDirect = (name: string, c: number, n: number) => {
    const w = ++write;
    record({ t: 'write', f: name, c, n, w });
    const data = Buffer.concat(Array.from({ length: n }, (_, i) => chunkContent(name, c + i, w)));
    const dd = spawnSync('dd', [`of=${path(name)}`, `bs=${CHUNK_SIZE}`, `seek=${c}`, `count=${n}`, 'iflag=fullblock', 'oflag=direct', 'conv=notrunc', 'status=none'],
      { input: data, timeout: 30_000 });
    if (dd.status !== 0) throw Object.assign(new Error(`dd oflag=direct: ${dd.stderr?.toString().trim() || dd.error?.message || `exit ${dd.status}`}`), { code: 'DD_FAILED' });
    writes++;
  };
  const sync = (fd: number, name: string) => {
    // Every write this process made to this file was issued before the call: all are covered once it returns.
    const covered = write;
    const how = random() < 0.5 ? 'fsync' : 'fdatasync';
    if (how === 'fsync') fsyncSync(fd);
    else fdatasyncSync(fd);
    record({ t: 'sync', f: name, from: firstWrite, w: covered, how });
    syncs++;
  };
  const create = (name: string, initialChunks: number): number => {
    record({ t: 'create', f: name });
    const fd = openSync(path(name), 'w+');
    if (initialChunks > 0) {
      writeChunks(fd, name, 0, initialChunks);
      sync(fd, name);
    }
    // The new name is durable only once its directory is.
    fsyncSync(dirFd);
    record({ t: 'created', f: name });
    return fd;
  };

  record({ t: 'round', round, seed });
  const dataFds: number[] = [];
  try {
    for (let i = 0; i < files; i++) {
      const name = dataFileName(i);
      const known = state.files.get(name);
      dataFds.push(known?.status === 'created' ? openSync(path(name), 'r+') : create(name, chunks));
    }
    for (const file of state.files.values()) {
      if (!file.name.startsWith('log-') || file.round > round - KEEP_LOG_ROUNDS || (file.status !== 'created' && file.status !== 'unlinking')) continue;
      record({ t: 'unlink', f: file.name });
      try {
        unlinkSync(path(file.name));
      } catch (error) {
        // Its creation or an earlier unlink may not have survived the crash: gone is what we want.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
      fsyncSync(dirFd);
      record({ t: 'unlinked', f: file.name });
    }
    const logName = logFileName(round);
    const logFd = create(logName, 0);
    let logChunks = 0;
    console.log('ready');

    const deadline = Date.now() + maxMs;
    while (Date.now() < deadline) {
      const u = random();
      if (u < 0.6) {
        const file = Math.floor(random() * files);
        const c = Math.floor(random() * chunks);
        const n = 1 + Math.floor(random() * Math.min(MAX_RUN, chunks - c));
        if (random() < DIRECT_SHARE) writeChunksDirect(dataFileName(file), c, n);
        else writeChunks(dataFds[file]!, dataFileName(file), c, n);
      } else if (u < 0.66) {
        // Rare enough that a kill often finds many writes since the last flush.
        const file = Math.floor(random() * files);
        sync(dataFds[file]!, dataFileName(file));
      } else if (u < 0.96) {
        const n = 1 + Math.floor(random() * 4);
        writeChunks(logFd, logName, logChunks, n);
        logChunks += n;
      } else {
        sync(logFd, logName);
      }
    }
    console.log(`stopped: time is up after ${writes} writes and ${syncs} completed fsyncs`);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
    console.log(`stopped: ${code} after ${writes} writes and ${syncs} completed fsyncs`);
  } finally {
    for (const fd of dataFds) try { closeSync(fd); } catch { /* the disk is gone */ }
    journal.close();
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) main(process.argv.slice(2));
