import type { PutOptions } from 's3backer';

/** A write of the block is in flight: reads are answered with its data (the C tool's WRITING state). */
export interface WritingEntry {
  readonly state: 'writing';
  readonly block: number;
  /** The encoded body being stored; null: the write deletes the object (a zero block). */
  readonly body: Buffer | null;
  readonly options: PutOptions;
  /** Settles (never rejects) when the write ended, stored or not. */
  readonly done: Promise<void>;
}

/**
 * The block's last write ended at `at` (the C tool's WRITTEN state): `stored` with the ETag of the
 * object it made, `deleted` (a zero block; the C tool's zero MD5), or `unknown` when the write
 * failed and the store may hold either version (the C tool's all-0xff ETag, ec_protect.c).
 */
export interface WrittenEntry {
  readonly state: 'written';
  readonly block: number;
  readonly outcome: 'stored' | 'deleted' | 'unknown';
  /** The stored object's ETag (outcome `stored` only). */
  readonly etag: string | undefined;
  /** When the write ended, on the `now()` clock (ms). */
  readonly at: number;
}

export type Md5Entry = WritingEntry | WrittenEntry;

/** Ends a write begun with `Md5Cache.beginWrite`. */
export interface WriteTicket {
  readonly entry: WritingEntry;
  end(outcome: { stored: string } | 'deleted' | 'unknown'): void;
}

/**
 * The table of blocks md5-protect remembers (ec_protect.c's hash table and its list of WRITTEN
 * entries ordered by completion time), keyed by object name. Holds at most `capacity` entries,
 * in flight or written; a written entry expires `time` ms after its write ended (0: never). Expired
 * entries are dropped lazily, on the next look, as the C tool scrubs on each read and write.
 */
export class Md5Cache {
  private readonly entries = new Map<string, Md5Entry>();
  /** Written entries, oldest write first (a Map keeps insertion order; a rewrite re-inserts). */
  private readonly written = new Map<string, WrittenEntry>();
  private waiters: Array<() => void> = [];

  constructor(
    readonly capacity: number,
    /** ms a written entry is kept; 0 keeps it until the mount ends. */
    readonly time: number,
    readonly now: () => number = () => performance.now(),
  ) {}

  /** Entries in use, in flight or written (the stats file's md5_cache_current_size). */
  get size(): number {
    this.scrub();
    return this.entries.size;
  }

  get full(): boolean {
    return this.size >= this.capacity;
  }

  /** The block's entry, if it is still remembered. */
  get(key: string): Md5Entry | undefined {
    this.scrub();
    return this.entries.get(key);
  }

  /** Whether `entry` is still the key's entry (no later write began or ended, and it was not dropped). */
  holds(key: string, entry: Md5Entry): boolean {
    return this.entries.get(key) === entry;
  }

  /** Every remembered entry, by object name. */
  *all(): IterableIterator<[string, Md5Entry]> {
    this.scrub();
    yield* this.entries;
  }

  /**
   * Mark the block as being written. The caller made sure no write of it is in flight and, when
   * the block has no entry yet, that the table has room.
   */
  beginWrite(key: string, block: number, body: Buffer | null, options: PutOptions): WriteTicket {
    let settle!: () => void;
    const entry: WritingEntry = { state: 'writing', block, body, options, done: new Promise<void>((resolve) => { settle = resolve; }) };
    this.written.delete(key);
    this.entries.set(key, entry);
    return {
      entry,
      end: (outcome) => {
        if (this.entries.get(key) === entry) {
          const written: WrittenEntry = typeof outcome === 'object'
            ? { state: 'written', block, outcome: 'stored', etag: outcome.stored, at: this.now() }
            : { state: 'written', block, outcome, etag: undefined, at: this.now() };
          this.entries.set(key, written);
          this.written.set(key, written);
        }
        settle();
        this.wake();
      },
    };
  }

  /** Drop `entry` if it is still the key's (a settled unknown outcome: the block is read normally again). */
  forget(key: string, entry: Md5Entry): void {
    if (this.entries.get(key) !== entry) return;
    this.entries.delete(key);
    this.written.delete(key);
    this.wake();
  }

  /**
   * Wait until the table may have room: until the oldest written entry expires, or until any
   * entry changes (a write ends). Fails with the signal's reason when it aborts. With `time` 0 nothing expires; the mount refuses a table smaller
   * than the volume then, so a full table can only be full of writes in flight.
   */
  async room(signal?: AbortSignal): Promise<void> {
    const oldest = this.written.values().next().value as WrittenEntry | undefined;
    const expiresIn = oldest && this.time > 0 ? oldest.at + this.time - this.now() : undefined;
    let timer: NodeJS.Timeout | undefined;
    let waiter!: () => void;
    try {
      await new Promise<void>((resolve) => {
        waiter = resolve;
        this.waiters.push(resolve);
        // +1: a timer may fire a fraction of a millisecond before the entry's expiry instant.
        if (expiresIn !== undefined) timer = setTimeout(resolve, Math.max(0, Math.ceil(expiresIn)) + 1);
        signal?.addEventListener('abort', waiter, { once: true });
      });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', waiter);
      this.waiters = this.waiters.filter((other) => other !== waiter);
    }
    signal?.throwIfAborted();
  }

  /** Forget everything (unmount). */
  clear(): void {
    this.entries.clear();
    this.written.clear();
    this.wake();
  }

  /** Drop written entries older than `time`, oldest first. */
  private scrub(): void {
    if (this.time === 0 || this.written.size === 0) return;
    const cutoff = this.now() - this.time;
    let dropped = false;
    for (const [key, entry] of this.written) {
      if (entry.at > cutoff) break;
      this.written.delete(key);
      this.entries.delete(key);
      dropped = true;
    }
    if (dropped) this.wake();
  }

  private wake(): void {
    if (this.waiters.length === 0) return;
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}
