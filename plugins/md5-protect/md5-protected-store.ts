import { setTimeout as sleep } from 'node:timers/promises';
import { ForwardingStore, PreconditionFailedError, S3BackerError, copyBuffer, formatBlockNumber, type BlockGeometry, type GetOptions, type Logger, type ObjectInfo, type ObjectStore, type PutOptions, type StoredObject } from 's3backer';
import type { Md5Cache, WrittenEntry } from './md5-cache.js';

/**
 * The ETag of an object answered from a write still in flight: its real ETag is not known yet. A
 * cache that records it and later compares it with the store's finds a mismatch and reads the
 * block again, which is safe.
 */
export const IN_FLIGHT_ETAG = '"s3backer-in-flight"';

export interface Md5ProtectSettings {
  /** ms between the end of one write of a block and the start of the next (`--minWriteDelay`). */
  readonly minWriteDelay: number;
  /** First pause before a stale read is tried again, ms (`--initialRetryPause`). */
  readonly initialRetryPause: number;
  /** Most time spent pausing between stale reads of one block before giving up, ms (`--maxRetryPause`). */
  readonly maxRetryPause: number;
}

export interface Md5ProtectCounters {
  /** Reads answered from a write in flight (md5_cache_data_hits). */
  dataHits: number;
  /** ms writers waited for room in a full table (md5_cache_full_delays). */
  fullDelayMs: number;
  /** ms writers waited for --minWriteDelay (md5_cache_write_delays). */
  writeDelayMs: number;
  /** Reads that returned another version than the one written, and were tried again. */
  staleReads: number;
}

/** A tracked read found that a write of the block began or ended meanwhile: look at its entry again. */
const CHANGED = Symbol('changed');

/**
 * The C tool's eventual-consistency protection (ec_protect.c) as a store around the chosen one, so
 * it guards every block request: the engine's, and a write-back cache's uploads and misses (the
 * cache calls the object tier directly, below the block-tier hooks). Until `protect()` (the mount,
 * once the geometry is known) it passes every request through: the mounted flag and geometry
 * detection are not blocks.
 *
 * Per block: a write in flight answers reads with its data; a finished write is remembered by
 * the ETag it produced (or "deleted", or "unknown" when it failed) so later reads accept only
 * that version (an If-Match GET where the store can, an ETag comparison always), pausing and
 * reading again while the store answers with an older one; and two writes of one block are at
 * least `minWriteDelay` apart.
 *
 * It offers no `deleteMany`, so bulk deletes reach it one `delete` per block and each is
 * remembered: ec_protect.c too zeroes block by block (its bulk_zero is generic_bulk_zero).
 */
export class Md5ProtectedStore extends ForwardingStore {
  /** None (see above): one `delete` per block, each remembered. */
  override readonly deleteMany: ObjectStore['deleteMany'] = undefined;
  readonly counters: Md5ProtectCounters = { dataHits: 0, fullDelayMs: 0, writeDelayMs: 0, staleReads: 0 };
  private geometry: BlockGeometry | undefined;
  private cache: Md5Cache | undefined;
  private settings: Md5ProtectSettings = { minWriteDelay: 0, initialRetryPause: 0, maxRetryPause: 0 };
  private deadlockWarned = false;

  constructor(inner: ObjectStore, private readonly log: Logger) {
    super(inner);
  }

  /** The table in use, once mounted. */
  get table(): Md5Cache | undefined {
    return this.cache;
  }

  /** Start protecting the volume's blocks. */
  protect(geometry: BlockGeometry, cache: Md5Cache, settings: Md5ProtectSettings): void {
    this.geometry = geometry;
    this.cache = cache;
    this.settings = settings;
  }

  /** Stop protecting (unmount): later requests pass through. */
  release(): void {
    this.cache?.clear();
    this.cache = undefined;
    this.geometry = undefined;
  }

  override async get(key: string, options?: GetOptions): Promise<StoredObject | null> {
    const cache = this.cache;
    const block = this.geometry?.parseKey(key);
    if (!cache || block === undefined) return this.inner.get(key, options);
    for (;;) {
      this.stopSignal.throwIfAborted();
      const entry = cache.get(key);
      if (!entry) return this.inner.get(key, options);
      if (entry.state === 'writing') {
        this.counters.dataHits++;
        return entry.body ? inFlightObject(entry.body, entry.options) : null;
      }
      if (entry.outcome === 'deleted') {
        // A zero block we deleted: zeros, without asking a store that may still show the old object.
        this.counters.dataHits++;
        return null;
      }
      if (entry.outcome === 'unknown') {
        await this.settle(cache, key, entry);
        continue;
      }
      const ifMatch = this.inner.supports.conditionalGet ? { ...options, ifMatch: entry.etag! } : options;
      const object = await this.verified(cache, key, entry, () => this.inner.get(key, ifMatch));
      if (object !== CHANGED) return object;
    }
  }

  override async head(key: string): Promise<ObjectInfo | null> {
    const cache = this.cache;
    const block = this.geometry?.parseKey(key);
    if (!cache || block === undefined) return this.inner.head(key);
    for (;;) {
      this.stopSignal.throwIfAborted();
      const entry = cache.get(key);
      if (!entry) return this.inner.head(key);
      // A HEAD asks for the ETag, which a write in flight does not know yet: wait for it.
      if (entry.state === 'writing') {
        await entry.done;
        continue;
      }
      if (entry.outcome === 'deleted') return null;
      if (entry.outcome === 'unknown') {
        await this.settle(cache, key, entry);
        continue;
      }
      const info = await this.verified(cache, key, entry, () => this.inner.head(key));
      if (info !== CHANGED) return info;
    }
  }

  override async put(key: string, body: Buffer, options?: PutOptions): Promise<{ etag: string }> {
    const block = this.geometry?.parseKey(key);
    if (!this.cache || block === undefined) return this.inner.put(key, body, options);
    // The store contract lets the caller reuse `body` only once put settles: until then the entry may point at it.
    const ticket = await this.claim(this.cache, key, block, body, options ?? {});
    try {
      const result = await this.inner.put(key, body, options);
      ticket.end({ stored: result.etag });
      return result;
    } catch (error) {
      ticket.end('unknown');
      throw error;
    }
  }

  override async delete(key: string): Promise<void> {
    const block = this.geometry?.parseKey(key);
    if (!this.cache || block === undefined) return this.inner.delete(key);
    const ticket = await this.claim(this.cache, key, block, null, {});
    try {
      await this.inner.delete(key);
      ticket.end('deleted');
    } catch (error) {
      ticket.end('unknown');
      throw error;
    }
  }

  /** Blocks that may hold data in the store without a listing showing them yet (the C tool's survey reports every tracked block). */
  *trackedBlocks(): IterableIterator<number> {
    for (const [, entry] of this.cache?.all() ?? []) {
      if (entry.state === 'writing' ? entry.body !== null : entry.outcome !== 'deleted') yield entry.block;
    }
  }

  /**
   * Wait until the block may be written (ec_protect.c's write path): no write of it in flight, at
   * least `minWriteDelay` since its last write ended, and a free entry in the table; then mark it
   * as being written.
   */
  private async claim(cache: Md5Cache, key: string, block: number, body: Buffer | null, options: PutOptions) {
    for (;;) {
      this.stopSignal.throwIfAborted();
      const entry = cache.get(key);
      if (entry?.state === 'writing') {
        // The C tool sleeps minWriteDelay and looks again; waiting for the write to end, then
        // for minWriteDelay after it (the next case), is the same rule without polling. Counted
        // as a write delay, as there.
        const start = cache.now();
        await entry.done;
        this.counters.writeDelayMs += cache.now() - start;
        continue;
      }
      if (entry) {
        const wait = entry.at + this.settings.minWriteDelay - cache.now();
        if (wait > 0) {
          const start = cache.now();
          await this.pause(Math.ceil(wait));
          this.counters.writeDelayMs += cache.now() - start;
          continue;
        }
      } else if (cache.full) {
        if (cache.time === 0 && !this.deadlockWarned) {
          this.deadlockWarned = true;
          this.log.warn(`all ${cache.capacity} MD5 cache entries are in use and --md5CacheTime=0 keeps them forever: writes of further blocks wait (the C tool's "write deadlock"); give --md5CacheTime`);
        }
        const start = cache.now();
        await cache.room(this.stopSignal);
        this.counters.fullDelayMs += cache.now() - start;
        continue;
      }
      return cache.beginWrite(key, block, body, options);
    }
  }

  /**
   * A write failed, so the store may hold the old or the new version: wait `minWriteDelay` after
   * it (the C tool's settle time for an unknown outcome, #76 in its CHANGES), then read normally.
   */
  private async settle(cache: Md5Cache, key: string, entry: WrittenEntry): Promise<void> {
    const wait = entry.at + this.settings.minWriteDelay - cache.now();
    if (wait > 0) await this.pause(Math.ceil(wait));
    cache.forget(key, entry);
  }

  /**
   * Read until the store answers with the version we wrote (ec_protect.c's If-Match read; an
   * older version is ESTALE there, retried by http_io.c): pauses start at `initialRetryPause` and
   * double, and their sum never exceeds `maxRetryPause`, as http_io.c's retry loop. Gives up with
   * S3B_STALE_READ. Returns CHANGED when a write of the block began or ended meanwhile.
   */
  private async verified<T extends ObjectInfo>(cache: Md5Cache, key: string, entry: WrittenEntry, read: () => Promise<T | null>): Promise<T | null | typeof CHANGED> {
    const { initialRetryPause, maxRetryPause } = this.settings;
    let pause = Math.max(1, initialRetryPause);
    let paused = 0;
    for (let attempt = 1; ; attempt++) {
      let seen: string;
      try {
        const object = await read();
        if (object?.etag === entry.etag) return object;
        seen = object ? `an object with ETag ${object.etag}` : 'no object';
      } catch (error) {
        if (!(error instanceof PreconditionFailedError)) throw error;
        seen = 'another version (If-Match failed)';
      }
      // Our own newer write, not a stale copy: its entry decides.
      if (!cache.holds(key, entry)) return CHANGED;
      this.counters.staleReads++;
      if (paused >= maxRetryPause) {
        throw new S3BackerError('S3B_STALE_READ',
          `object "${key}" is still stale: this mount stored the version with ETag ${entry.etag}, but ${attempt} read${attempt === 1 ? '' : 's'} over ${Math.round(paused)} ms of pauses got ${seen}. ` +
          `The store is only eventually consistent and has not caught up within --maxRetryPause=${maxRetryPause} ms; raise --maxRetryPause, or read again later`,
          { block: entry.block });
      }
      const wait = Math.min(pause, maxRetryPause - paused);
      this.log.debug(`block ${formatBlockNumber(entry.block)}: read ${attempt} got ${seen}, not the ETag ${entry.etag} written; reading again in ${wait} ms`);
      await this.pause(wait);
      paused += wait;
      pause *= 2;
      if (!cache.holds(key, entry)) return CHANGED;
    }
  }

  /** Wait `ms`, or fail with the abort's reason as soon as the store is closed or aborted. */
  private async pause(ms: number): Promise<void> {
    const signal = this.stopSignal;
    signal.throwIfAborted();
    await sleep(ms, undefined, { signal }).catch(() => { throw signal.reason; });
  }
}

/** What a read of a block being written answers: a copy of the data in flight, as the store will hold it. */
function inFlightObject(body: Buffer, options: PutOptions): StoredObject {
  return {
    body: copyBuffer(body),
    etag: IN_FLIGHT_ETAG,
    size: body.length,
    metadata: { ...options.metadata },
    ...(options.contentEncoding === undefined ? {} : { contentEncoding: options.contentEncoding }),
    ...(options.contentType === undefined ? {} : { contentType: options.contentType }),
  };
}
