import { KeyedMutex, S3BackerError, copyBuffer, formatBlockNumber, type Logger } from 's3backer';
import type { CacheStorage, CachedBlock } from './cache-storage.js';

export interface BlockCacheSettings {
  /** Blocks held at most: clean, dirty and in flight (`--blockCacheSize`). */
  capacity: number;
  /** Uploads plus read-ahead downloads in flight (`--blockCacheThreads`). */
  threads: number;
  /** ms a block may stay dirty before its upload starts (`--blockCacheWriteDelay`). */
  writeDelay: number;
  /** A write returns only once stored (`--blockCacheSync`). */
  sync: boolean;
  /** ms after which an unused clean block is dropped; 0 never (`--blockCacheTimeout`). */
  timeout: number;
  /** Writers wait while this many blocks are dirty; 0 no limit (`--blockCacheMaxDirty`). */
  maxDirty: number;
  /** Blocks below this number are evicted last (`--blockCacheNumProtected`). */
  numProtected: number;
  /** Blocks fetched ahead of a sequential reader (`--readAhead`) ... */
  readAhead: number;
  /** ... once it read this many consecutive blocks (`--readAheadTrigger`). */
  readAheadTrigger: number;
  /** Pause before retrying a block whose upload failed (each attempt already includes the store's own retries). */
  retryPauseMs: number;
}

/** What the cache needs below it: the object tier, reached through the engine. */
export interface BlockSource {
  readonly numBlocks: number;
  readonly blockSize: number;
  /** Read a block from the store (below every cache), with its object's ETag. */
  fetch(block: number): Promise<{ data: Buffer; etag: string | undefined }>;
  /** The ETag of a block's object now (undefined: no object). */
  etag(block: number): Promise<string | undefined>;
  /** Store a block; resolves to the new object's ETag (undefined: deleted, all zeros). */
  store(block: number, data: Buffer): Promise<string | undefined>;
  /** A block left the cache (the engine's `evict` hook). */
  evicted(block: number, reason: string): Promise<void>;
}

interface Waiter {
  version: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface Claim {
  entry: Entry;
  settle: (error?: unknown) => void;
}

interface Entry {
  readonly block: number;
  /** Set while the block is being read from the store; the entry holds no bytes until it settles. */
  loading: Promise<void> | undefined;
  /** ETag to check before the first use (a clean block reloaded from a cache file); null: checked. */
  unverified: string | undefined | null;
  /** Writes whose bytes are in the storage. */
  version: number;
  /** The highest version known to be in the object store. Dirty while `version > stored`. */
  stored: number;
  uploading: boolean;
  /** Its current buffer was handed to a reader (or is shared, like the zero block): never patch it in place. */
  lent: boolean;
  /**
   * Whole-block writes between taking the entry out of the LRU and their bytes being in the
   * storage. While any is pending the entry stays out of the LRU: an upload of the previous
   * version finishing meanwhile would otherwise make it clean and evictable, and an eviction then
   * orphans the write (its bytes removed from the storage, the acknowledged write lost).
   */
  writing: number;
  /** A failed upload is retried from this time on (ms). */
  retryAt: number;
  /** When the upload is due (ms), set when the block became dirty. */
  due: number;
  lastUse: number;
  /** fsync and --blockCacheSync callers waiting for a version to be stored. */
  waiters: Waiter[];
}

export interface BlockCacheCounters {
  readHits: number;
  readMisses: number;
  writeHits: number;
  writeMisses: number;
  verified: number;
  mismatch: number;
}

const now = () => performance.now();

/**
 * The write-back block cache (the C tool's block_cache.c, with a stronger durability contract):
 * writes return once the block is in the cache; dirty blocks upload in parallel (up to `threads`),
 * each after `writeDelay`, sooner as dirty blocks fill the cache; a block rewritten while it
 * uploads is uploaded again afterwards, and one block never has two uploads in flight, so its
 * writes reach the store in order. Reads of uncached blocks go straight to the store (they never
 * queue behind uploads); sequential readers get parallel read-ahead. Clean blocks are evicted LRU,
 * protected blocks last. `flush()` resolves only when every block dirty at its call, including
 * blocks already uploading, is stored, and rejects when one could not be.
 */
export class BlockCache {
  readonly counters: BlockCacheCounters = { readHits: 0, readMisses: 0, writeHits: 0, writeMisses: 0, verified: 0, mismatch: 0 };
  /** Blocks restored from a cache file at mount (the stats' `initial_size`). */
  initialSize = 0;

  private readonly entries = new Map<number, Entry>();
  /** Clean, loaded, evictable entries in LRU order (first = least recently used); protected ones apart. */
  private readonly cleanLru = new Map<number, Entry>();
  private readonly protectedLru = new Map<number, Entry>();
  /** Dirty entries not uploading, in the order they became dirty (= due order). */
  private readonly dirtyQueue = new Map<number, Entry>();
  /** Every entry with `version > stored`, uploading or not. */
  private readonly dirty = new Set<Entry>();
  /** Dirty entries someone waits for (fsync): uploaded before everything else. */
  private readonly urgent = new Set<Entry>();
  /** Serialises storage calls per block, as the CacheStorage contract promises. */
  private readonly storageLock = new KeyedMutex<number>();
  private background = 0;
  private readonly roomWaiters: Array<() => void> = [];
  /** Woken whenever a background upload or read-ahead finishes: writers held by --blockCacheMaxDirty, and stop(). */
  private readonly progressWaiters: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private sweeper: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly zeroBlock: Buffer;
  // Sequential-read detection (C: seq_last, seq_count, ra_count).
  private seqLast = -2;
  private seqCount = 0;
  private raCount = 0;
  /** Blocks to keep fetched ahead now: starts at --readAhead, grows while the reader stays sequential. */
  private raWindow: number;

  constructor(
    private readonly source: BlockSource,
    private readonly storage: CacheStorage,
    private readonly settings: BlockCacheSettings,
    private readonly log: Logger,
  ) {
    this.zeroBlock = Buffer.alloc(source.blockSize);
    this.raWindow = settings.readAhead;
    if (settings.timeout > 0) {
      this.sweeper = setInterval(() => void this.sweep(), Math.max(100, Math.min(settings.timeout / 2, 5000)));
      this.sweeper.unref();
    }
  }

  get size(): number {
    return this.entries.size;
  }

  get capacity(): number {
    return this.settings.capacity;
  }

  get dirtyCount(): number {
    return this.dirty.size;
  }

  /** Dirty blocks: the cache's additions to a block listing. */
  dirtyBlocks(): number[] {
    return [...this.dirty].map((entry) => entry.block);
  }

  /** Take over what a cache file kept: dirty blocks are queued for upload at once, clean ones verified on first use. */
  restore(blocks: readonly CachedBlock[], verify: boolean): void {
    for (const cached of blocks) {
      const entry = this.newEntry(cached.block);
      this.entries.set(cached.block, entry);
      if (cached.dirty) {
        entry.version = 1;
        this.markDirty(entry, 0);
      } else {
        entry.unverified = verify ? cached.etag : null;
        this.makeClean(entry);
      }
    }
    this.initialSize = blocks.length;
    this.pump();
  }

  /** The cache's answer to a block read (the `readBlock` tap): a shared buffer nobody writes. */
  async read(block: number): Promise<Buffer> {
    this.noteRead(block);
    for (;;) {
      const entry = this.entries.get(block);
      if (!entry) {
        const claimed = await this.claim(block);
        // Someone else created the entry while we waited for room: read it as they do.
        if (!claimed) continue;
        this.counters.readMisses++;
        return this.fill(claimed);
      }
      if (entry.loading) {
        // The loader reports a failure to its own caller; we look again (and load it ourselves).
        await entry.loading.catch(() => {});
        continue;
      }
      if (entry.unverified !== null) {
        await this.verify(entry);
        continue;
      }
      this.counters.readHits++;
      this.touch(entry);
      entry.lent = true;
      // Queued before any eviction that could follow, so the bytes are still there when it runs.
      return this.storageLock.run(block, () => this.storage.read(block));
    }
  }

  /** A whole-block write (the `writeBlock` tap): returns once the bytes are in the cache (stored too with --blockCacheSync). */
  async write(block: number, data: Buffer, isZero: boolean, owned = false): Promise<void> {
    this.checkRunning();
    // The caller may reuse its buffer once we return: keep a copy, unless it was made for this
    // write alone (owned); all-zero blocks share one buffer.
    const bytes = isZero ? this.zeroBlock : owned ? data : copyBuffer(data);
    const { maxDirty } = this.settings;
    for (;;) {
      const existing = this.entries.get(block);
      // A rewrite of a dirty block adds no dirty block: only new dirty blocks wait for room.
      if (maxDirty === 0 || this.dirty.size < maxDirty || (existing && this.dirty.has(existing))) break;
      this.pump();
      await new Promise<void>((resolve) => this.progressWaiters.push(resolve));
      this.checkRunning();
    }
    let entry: Entry;
    let claimed: Claim | undefined;
    for (;;) {
      const existing = this.entries.get(block);
      if (existing?.loading) {
        await existing.loading.catch(() => {});
        continue;
      }
      if (existing) {
        this.counters.writeHits++;
        entry = existing;
        break;
      }
      claimed = await this.claim(block);
      if (!claimed) continue;
      this.counters.writeMisses++;
      entry = claimed.entry;
      break;
    }
    // Out of the LRU while its bytes change, so no eviction can remove them underneath.
    entry.writing++;
    this.unlinkClean(entry);
    try {
      await this.storageLock.run(block, async () => {
        await this.storage.putDirty(block, bytes);
        entry.version++;
        // A copy of our own (or the caller's owned buffer) is private until a reader gets it.
        entry.lent = bytes === this.zeroBlock;
      });
    } catch (error) {
      entry.writing--;
      if (claimed) this.forget(entry);
      else if (entry.version === entry.stored) this.makeClean(entry);
      claimed?.settle(error);
      throw error;
    }
    entry.writing--;
    claimed?.settle();
    // Whole new bytes: nothing reloaded from a cache file needs checking any more.
    entry.unverified = null;
    entry.lastUse = now();
    if (!this.dirty.has(entry)) this.markDirty(entry, now() + this.settings.writeDelay);
    this.pump();
    if (this.settings.sync) await this.waitStored(entry, entry.version);
  }

  /**
   * Part of a block, in place (C block_cache.c's write_block_part): a sequential writer's 128 KiB
   * pieces of a 1 MiB block then cost no copy of the whole block each. Only for a dirty block
   * whose buffer nobody else holds; otherwise false, and the device rewrites the whole block.
   */
  async writePart(block: number, offset: number, data: Buffer): Promise<boolean> {
    const { storage } = this;
    if (!storage.patch || this.stopped) return false;
    const entry = this.entries.get(block);
    if (!entry || !this.dirty.has(entry) || entry.loading || entry.lent || entry.uploading) return false;
    // Checked again under the block's lock: an upload or a reader may have come in between.
    const applied = await this.storageLock.run(block, async () => {
      if (this.entries.get(block) !== entry || entry.lent || entry.uploading) return false;
      // Out of the LRU before the bytes change (its upload may have just finished), so no eviction takes them.
      this.unlinkClean(entry);
      try {
        await storage.patch!(block, offset, data);
      } catch (error) {
        if (entry.version === entry.stored) this.makeClean(entry);
        throw error;
      }
      entry.version++;
      if (!this.dirty.has(entry)) this.markDirty(entry, now() + this.settings.writeDelay);
      return true;
    });
    if (!applied) return false;
    this.counters.writeHits++;
    entry.lastUse = now();
    this.pump();
    if (this.settings.sync) await this.waitStored(entry, entry.version);
    return true;
  }

  /**
   * Resolves when every block dirty now (uploading or not) is stored; rejects with S3B_FLUSH_FAILED
   * naming the blocks whose upload failed (they stay dirty and are retried).
   */
  async flush(): Promise<void> {
    const waits = [...this.dirty].map((entry) => this.waitStored(entry, entry.version).then(() => undefined, (error: unknown) => ({ block: entry.block, error })));
    if (waits.length === 0) return;
    this.pump();
    const failures = (await Promise.all(waits)).filter((failure) => failure !== undefined);
    if (failures.length === 0) return;
    const first = failures[0]!;
    const reason = first.error instanceof Error ? first.error.message : String(first.error);
    throw new S3BackerError('S3B_FLUSH_FAILED',
      `${failures.length} of ${waits.length} dirty blocks could not be stored (first: ${reason}); they stay in the cache and are retried; check the store, then sync again`,
      { cause: first.error });
  }

  /** Stop background work. Returns how many blocks are still dirty (not stored). */
  async stop(): Promise<number> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.sweeper);
    this.timer = undefined;
    // Let uploads in flight settle: their outcome decides what is dirty.
    while (this.background > 0) await new Promise<void>((resolve) => this.progressWaiters.push(resolve));
    for (const waiters of [this.roomWaiters, this.progressWaiters]) for (const wake of waiters.splice(0)) wake();
    return this.dirty.size;
  }

  // --- reads ---

  /** Read a claimed block from the store into the cache (a miss, or read-ahead). */
  private async fill({ entry, settle }: Claim): Promise<Buffer> {
    const { block } = entry;
    let bytes: Buffer;
    try {
      const { data, etag } = await this.source.fetch(block);
      // No object: the block is zeros, and every zero block can share one buffer.
      bytes = etag === undefined ? this.zeroBlock : data;
      await this.storageLock.run(block, () => this.storage.putClean(block, bytes, etag));
    } catch (error) {
      this.forget(entry);
      settle(error);
      throw error;
    }
    settle();
    entry.lent = true;
    this.makeClean(entry);
    return bytes;
  }

  /** A clean block reloaded from a cache file: is it still what the store has? If not, it is dropped. */
  private async verify(entry: Entry): Promise<void> {
    const expected = entry.unverified;
    this.unlinkClean(entry);
    const done = this.pending(entry);
    try {
      const actual = await this.source.etag(entry.block);
      if (actual === expected) {
        this.counters.verified++;
        entry.unverified = null;
        this.makeClean(entry);
        return;
      }
      this.counters.mismatch++;
      this.log.info(`block ${formatBlockNumber(entry.block)}: the cache file's copy is stale (ETag ${expected ?? 'none'}, store ${actual ?? 'none'}); reading it again`);
      await this.drop(entry, 'stale');
    } catch (error) {
      this.makeClean(entry);
      throw error;
    } finally {
      done();
    }
  }

  /**
   * C block_cache.c's sequential-read tracking; starts read-ahead for a sequential reader. Unlike
   * the C tool's fixed window, ours doubles each time the reader consumed a whole window, as the
   * kernel's read-ahead does: S3 throughput is requests in flight, and 4 blocks ahead keep too
   * few in flight (docs/benchmarks.md: 16 ahead read 17% faster at 64 KiB blocks).
   */
  private noteRead(block: number): void {
    const { readAhead, readAheadTrigger } = this.settings;
    if (block === this.seqLast + 1) {
      this.seqCount++;
      if (this.raCount > 0) this.raCount--;
      if (readAhead > 0 && (this.seqCount - readAheadTrigger) % this.raWindow === 0 && this.seqCount > readAheadTrigger) {
        this.raWindow = Math.min(this.raWindow * 2, this.maxWindow);
      }
    } else if (block !== this.seqLast) {
      this.seqCount = 1;
      this.raCount = 0;
      this.raWindow = readAhead;
    }
    this.seqLast = block;
    if (readAhead > 0 && this.seqCount >= readAheadTrigger) this.pump();
  }

  /** The largest read-ahead window: no more than the fetches that may be in flight, nor a quarter of the cache. */
  private get maxWindow(): number {
    return Math.max(this.settings.readAhead, Math.min(this.settings.threads, Math.floor(this.settings.capacity / 4)));
  }

  /** Start one read-ahead fetch, if one is wanted and there is room. Returns whether it started one. */
  private startReadAhead(): boolean {
    const { readAhead, readAheadTrigger } = this.settings;
    while (readAhead > 0 && this.seqCount >= readAheadTrigger && this.raCount < this.raWindow) {
      const block = this.seqLast + ++this.raCount;
      if (block >= this.source.numBlocks) {
        this.raCount = this.raWindow;
        return false;
      }
      if (this.entries.has(block)) continue;
      if (this.entries.size >= this.settings.capacity && !this.evictOne('lru')) {
        // No clean room: read-ahead would only push out what the reader needs (C #248).
        this.seqCount = this.raCount = 0;
        return false;
      }
      this.background++;
      this.fill(this.claimNow(block)).catch((error: unknown) => {
        this.log.debug(`read-ahead of block ${formatBlockNumber(block)} failed: ${error instanceof Error ? error.message : String(error)}`);
      }).finally(() => this.backgroundDone());
      return true;
    }
    return false;
  }

  // --- writes and uploads ---

  private markDirty(entry: Entry, due: number): void {
    this.unlinkClean(entry);
    this.dirty.add(entry);
    entry.due = due;
    if (!entry.uploading) this.dirtyQueue.set(entry.block, entry);
  }

  private waitStored(entry: Entry, version: number): Promise<void> {
    if (entry.stored >= version) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      entry.waiters.push({ version, resolve, reject });
      this.urgent.add(entry);
      this.pump();
    });
  }

  /** Start uploads and read-ahead up to `threads`; arm the timer for the next due upload. */
  private pump(): void {
    if (this.stopped) return;
    const t = now();
    while (this.background < this.settings.threads) {
      const entry = this.nextUpload(t);
      if (entry) {
        void this.upload(entry);
        continue;
      }
      if (!this.startReadAhead()) break;
    }
    this.armTimer(t);
  }

  /** The next block to upload: one someone waits for, else the oldest dirty one if due. */
  private nextUpload(t: number): Entry | undefined {
    for (const entry of this.urgent) {
      if (!entry.uploading && entry.retryAt <= t) return entry;
    }
    const head = this.dirtyQueue.values().next().value as Entry | undefined;
    if (!head || head.retryAt > t) return undefined;
    return head.due - this.pullForward() <= t ? head : undefined;
  }

  /**
   * How much earlier than its due time a dirty block uploads: C's `adjusted_now`, the write delay
   * scaled by how full of dirty blocks the cache is, so it never stalls full of dirty blocks.
   */
  private pullForward(): number {
    const { capacity, maxDirty, writeDelay } = this.settings;
    const maxRatio = Math.min(0.9, (maxDirty > 0 ? maxDirty : capacity) / capacity);
    return writeDelay * (this.dirty.size / capacity / maxRatio);
  }

  private armTimer(t: number): void {
    const head = this.dirtyQueue.values().next().value as Entry | undefined;
    if (!head || this.background >= this.settings.threads) return;
    const at = Math.max(head.retryAt, head.due - this.pullForward(), t + 1);
    if (this.timer && at >= this.timerAt) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.pump();
    }, at - t);
    // Not unref'd: while a block is dirty the process must stay alive to store it.
  }

  private async upload(entry: Entry): Promise<void> {
    const { block } = entry;
    entry.uploading = true;
    this.dirtyQueue.delete(block);
    this.background++;
    let version = 0;
    try {
      const bytes = await this.storageLock.run(block, async () => {
        version = entry.version;
        return this.storage.read(block);
      });
      const etag = await this.source.store(block, bytes);
      entry.stored = Math.max(entry.stored, version);
      if (entry.version === version) {
        await this.storageLock.run(block, async () => {
          if (entry.version === version) await this.storage.markClean(block, etag);
        });
      }
      this.settle(entry, (waiter) => waiter.version <= entry.stored, undefined);
    } catch (error) {
      this.log.warn(`block ${formatBlockNumber(block)}: upload failed, will retry: ${error instanceof Error ? error.message : String(error)}`);
      entry.retryAt = now() + this.settings.retryPauseMs;
      this.settle(entry, (waiter) => waiter.version <= version, error);
    } finally {
      entry.uploading = false;
      if (entry.version > entry.stored) {
        // Rewritten while uploading (C: WRITING2: due after another write delay), or failed (due
        // at once, after the retry pause): back in line.
        this.dirtyQueue.set(block, entry);
        entry.due = entry.retryAt > now() ? 0 : now() + this.settings.writeDelay;
      } else {
        this.dirty.delete(entry);
        this.makeClean(entry);
      }
      this.backgroundDone();
    }
  }

  /** Resolve (or reject with `error`) the waiters that `matches` selects. */
  private settle(entry: Entry, matches: (waiter: Waiter) => boolean, error: unknown): void {
    const keep: Waiter[] = [];
    for (const waiter of entry.waiters) {
      if (!matches(waiter)) keep.push(waiter);
      else if (error === undefined) waiter.resolve();
      else waiter.reject(error);
    }
    entry.waiters = keep;
    if (keep.length === 0) this.urgent.delete(entry);
  }

  private backgroundDone(): void {
    this.background--;
    for (const wake of this.progressWaiters.splice(0)) wake();
    this.pump();
  }

  // --- room ---

  /**
   * A new entry for `block`, evicting a clean block when the cache is full, or waiting until one
   * is clean (C #250). The entry is marked pending until its owner settles it, so nobody reads it
   * before its bytes are stored. Undefined when someone else created an entry for the block meanwhile.
   */
  private async claim(block: number): Promise<Claim | undefined> {
    for (;;) {
      this.checkRunning();
      if (this.entries.has(block)) return undefined;
      if (this.entries.size < this.settings.capacity || this.evictOne('lru')) return this.claimNow(block);
      // Full of dirty and in-flight blocks: their uploads are already pulled forward (pullForward).
      this.pump();
      await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
    }
  }

  /** A new pending entry for `block`, room permitting or not (the caller made room). */
  private claimNow(block: number): Claim {
    const entry = this.newEntry(block);
    this.entries.set(block, entry);
    return { entry, settle: this.pending(entry) };
  }

  /** Mark an entry pending (readers and writers wait); the returned function ends that. */
  private pending(entry: Entry): (error?: unknown) => void {
    let resolve!: () => void;
    let reject!: (error: unknown) => void;
    const loading = new Promise<void>((ok, fail) => { resolve = ok; reject = fail; });
    loading.catch(() => {});
    entry.loading = loading;
    return (error?: unknown) => {
      if (entry.loading === loading) entry.loading = undefined;
      if (error === undefined) resolve();
      else reject(error);
    };
  }

  /** Take a failed new entry out again. */
  private forget(entry: Entry): void {
    if (this.entries.get(entry.block) === entry) this.entries.delete(entry.block);
    this.unlinkClean(entry);
    this.wakeRoom();
  }

  private unlinkClean(entry: Entry): void {
    if (this.cleanLru.get(entry.block) === entry) this.cleanLru.delete(entry.block);
    if (this.protectedLru.get(entry.block) === entry) this.protectedLru.delete(entry.block);
  }

  /** Evict the least recently used clean block (protected ones last). Returns false when none is clean. */
  private evictOne(reason: string): boolean {
    const victim = (this.cleanLru.values().next().value ?? this.protectedLru.values().next().value) as Entry | undefined;
    if (!victim) return false;
    void this.drop(victim, reason);
    return true;
  }

  /** Remove a clean entry from the cache now; its storage space is freed behind the per-block lock. */
  private async drop(entry: Entry, reason: string): Promise<void> {
    const { block } = entry;
    this.forget(entry);
    // Evictions run in the background (nobody awaits them): a storage failure is logged, never
    // an unhandled rejection. The entry is gone from the cache either way; a cache file that
    // could not clear its entry still holds a clean copy, which the next mount verifies.
    try {
      await this.storageLock.run(block, () => this.storage.remove(block));
    } catch (error) {
      this.log.warn(`block ${formatBlockNumber(block)}: could not free its space in ${this.storage.description}: ${error instanceof Error ? error.message : String(error)}`);
    }
    await this.source.evicted(block, reason).catch(() => {});
  }

  private makeClean(entry: Entry): void {
    if (this.entries.get(entry.block) !== entry || entry.writing > 0) return;
    (entry.block < this.settings.numProtected ? this.protectedLru : this.cleanLru).set(entry.block, entry);
    this.wakeRoom();
  }

  private touch(entry: Entry): void {
    entry.lastUse = now();
    const lru = entry.block < this.settings.numProtected ? this.protectedLru : this.cleanLru;
    if (lru.delete(entry.block)) lru.set(entry.block, entry);
  }

  private wakeRoom(): void {
    for (const wake of this.roomWaiters.splice(0)) wake();
  }

  /** --blockCacheTimeout: drop clean blocks unused for that long (LRU order is idle order). */
  private async sweep(): Promise<void> {
    const limit = now() - this.settings.timeout;
    for (const lru of [this.cleanLru, this.protectedLru]) {
      for (const entry of [...lru.values()]) {
        if (entry.lastUse > limit) break;
        await this.drop(entry, 'timeout');
      }
    }
  }

  private newEntry(block: number): Entry {
    return { block, loading: undefined, unverified: null, version: 0, stored: 0, uploading: false, lent: true, writing: 0, retryAt: 0, due: 0, lastUse: now(), waiters: [] };
  }

  private checkRunning(): void {
    if (this.stopped) throw new S3BackerError('S3B_ENGINE_STATE', 'the block cache has stopped (the disk is shutting down); no new requests are accepted');
  }
}
