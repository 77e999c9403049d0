import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';

/**
 * The crash loop's journal: what the writer is about to do and what each completed fsync covered,
 * one JSON record a line, in a file OUTSIDE the disk under test (so it survives every crash of
 * s3backer). Every record is fsynced before the writer goes on, so the journal never claims less
 * than the writer did, even if the host itself went down.
 *
 * - `write` is recorded BEFORE the chunks are written: after a crash they may hold it or not.
 * - `sync` is recorded AFTER fsync/fdatasync returned: every write to that file numbered from
 *   `from` (this writer's first) to `w` is then durable, and must be found after any later crash.
 *   Not the writes of earlier writers: the crash that ended them may have lost those, and an
 *   fsync after the reboot cannot bring them back.
 * - `create`/`unlink` come before the act, `created`/`unlinked` after the directory was fsynced.
 */
export type JournalRecord =
  | { t: 'round'; round: number; seed: number }
  | { t: 'create'; f: string }
  | { t: 'created'; f: string }
  | { t: 'write'; f: string; c: number; n: number; w: number }
  | { t: 'sync'; f: string; from: number; w: number; how: 'fsync' | 'fdatasync' }
  | { t: 'unlink'; f: string }
  | { t: 'unlinked'; f: string };

export type FileStatus = 'creating' | 'created' | 'unlinking' | 'unlinked';

export interface JournalFile {
  readonly name: string;
  status: FileStatus;
  /** The round whose writer created it. */
  round: number;
  /** Per chunk, the numbers of the writes that covered it, ascending. */
  readonly writes: Map<number, number[]>;
  /** Write numbers completed fsyncs of this file cover, as [from, to] ranges. */
  readonly synced: Array<[number, number]>;
}

export interface JournalState {
  readonly files: Map<string, JournalFile>;
  /** The highest write number used so far (the next writer continues after it). */
  lastWrite: number;
  rounds: number;
  syncs: number;
}

/** Read the journal (a missing file is an empty journal). A torn last line is ignored: its act never started. */
export function loadJournal(path: string): JournalState {
  const state: JournalState = { files: new Map(), lastWrite: 0, rounds: 0, syncs: 0 };
  if (!existsSync(path)) return state;
  let round = 0;
  const lines = readFileSync(path, 'utf8').split('\n');
  for (const [i, line] of lines.entries()) {
    if (line === '') continue;
    let record: JournalRecord;
    try {
      record = JSON.parse(line) as JournalRecord;
    } catch (error) {
      if (i === lines.length - 1) break;
      throw new Error(`journal ${path}, line ${i + 1}: ${String(error)}`);
    }
    apply(state, record, () => round);
    if (record.t === 'round') round = record.round;
  }
  return state;
}

function apply(state: JournalState, record: JournalRecord, round: () => number): void {
  if (record.t === 'round') {
    state.rounds++;
    return;
  }
  const file = (): JournalFile => {
    const known = state.files.get(record.f);
    if (!known) throw new Error(`journal: ${record.t} of ${record.f}, which was never created`);
    return known;
  };
  switch (record.t) {
    case 'create':
      // Created with O_TRUNC: whatever an earlier, unfinished creation wrote is gone.
      state.files.set(record.f, { name: record.f, status: 'creating', round: round(), writes: new Map(), synced: [] });
      break;
    case 'created':
      file().status = 'created';
      break;
    case 'write': {
      const target = file();
      for (let c = record.c; c < record.c + record.n; c++) {
        const writes = target.writes.get(c);
        if (writes) writes.push(record.w);
        else target.writes.set(c, [record.w]);
      }
      state.lastWrite = Math.max(state.lastWrite, record.w);
      break;
    }
    case 'sync':
      file().synced.push([record.from, record.w]);
      state.syncs++;
      break;
    case 'unlink':
      file().status = 'unlinking';
      break;
    case 'unlinked':
      file().status = 'unlinked';
      break;
  }
}

/** The writer's side: appends records, each fsynced before the act it announces (or after the one it reports). */
export class JournalWriter {
  private readonly fd: number;

  constructor(path: string) {
    this.fd = openSync(path, 'a');
  }

  append(record: JournalRecord): void {
    writeSync(this.fd, JSON.stringify(record) + '\n');
    fsyncSync(this.fd);
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** Whether a completed fsync of `file` covers write number `w`. */
export function isSynced(file: JournalFile, w: number): boolean {
  return file.synced.some(([from, to]) => w >= from && w <= to);
}
