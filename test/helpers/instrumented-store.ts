import type { ObjectStore, StoredObject, PutOptions, ListOptions, ObjectInfo } from '../../src/engine/object-store.js';
import { MemoryStore, type MemoryVolume } from '../../plugins/memory/memory-store.js';

type Operation = 'get' | 'head' | 'put' | 'delete';

/** A request the test holds back until it calls `release()` (or `fail(error)`). */
export interface HeldRequest {
  readonly op: Operation;
  readonly key: string;
  release(): void;
  fail(error: Error): void;
}

/**
 * A memory store for unit tests of one module: counts every request, logs PUT order, can add
 * latency, fail requests, or hold them until the test releases them (so tests assert ordering
 * instead of timing).
 */
export class InstrumentedStore implements ObjectStore {
  readonly kind = 'memory';
  readonly description = 'instrumented://';
  readonly supports = { conditionalPut: true, metadata: true };
  private readonly inner: MemoryStore;
  readonly counts: Record<Operation, number> = { get: 0, head: 0, put: 0, delete: 0 };
  /** Every PUT and DELETE in the order they reached the store: `put key <first byte>` / `delete key`. */
  readonly log: string[] = [];
  /** PUTs and DELETEs in progress, per key (to catch two uploads of one block at once). */
  private readonly writesInFlight = new Map<string, number>();
  maxWritesInFlightPerKey = 0;
  /** ms added to every block request (not the mounted flag). */
  latency: (op: Operation) => number = () => 0;
  /** Return an error to fail a request, or undefined. */
  failWith: (op: Operation, key: string) => Error | undefined = () => undefined;
  /** Which requests to hold until released. */
  hold: (op: Operation, key: string) => boolean = () => false;
  readonly held: HeldRequest[] = [];
  private readonly heldWaiters: Array<() => void> = [];
  /**
   * Listing: keys per page, as a server pages ListObjects (S3 gives 1000). Each page is one
   * request: counted in `listPages`, and subject to `failList` and `holdList`.
   */
  listPageSize = 1000;
  /** List pages requested. */
  listPages = 0;
  /** Return an error to fail the list page that starts after `startAfter`, or undefined. */
  failList: (startAfter: string | undefined) => Error | undefined = () => undefined;
  /**
   * Which list pages to hold until released. A held page's keys are taken when the request
   * arrives, as a server answers from the bucket as it was then: writes made while it is held are
   * not in it.
   */
  holdList: (startAfter: string | undefined) => boolean = () => false;
  readonly heldLists: Array<{ readonly startAfter: string | undefined; release(): void; fail(error: Error): void }> = [];

  constructor(readonly volume: MemoryVolume = new Map()) {
    this.inner = new MemoryStore(volume);
  }

  async open(): Promise<void> {
    return this.inner.open();
  }

  async get(key: string): Promise<StoredObject | null> {
    await this.gate('get', key);
    return this.inner.get(key);
  }

  async head(key: string): Promise<ObjectInfo | null> {
    await this.gate('head', key);
    return this.inner.head(key);
  }

  async put(key: string, body: Buffer, options?: PutOptions): Promise<{ etag: string }> {
    const first = body[0];
    await this.gate('put', key);
    this.log.push(`put ${key} ${first}`);
    return this.inner.put(key, body, options);
  }

  async delete(key: string): Promise<void> {
    await this.gate('delete', key);
    this.log.push(`delete ${key}`);
    return this.inner.delete(key);
  }

  async *list(options: ListOptions = {}): AsyncIterable<string> {
    let marker = options.startAfter;
    for (;;) {
      const page: string[] = [];
      for await (const key of this.inner.list({ ...options, ...(marker === undefined ? {} : { startAfter: marker }) })) {
        page.push(key);
        if (page.length > this.listPageSize) break;
      }
      const truncated = page.length > this.listPageSize;
      if (truncated) page.pop();
      await this.gateList(marker);
      yield* page;
      if (!truncated) return;
      marker = page[page.length - 1];
    }
  }

  /** Resolves once `count` list pages are held. */
  async waitForHeldLists(count: number): Promise<void> {
    while (this.heldLists.length < count) await new Promise<void>((resolve) => this.heldWaiters.push(resolve));
  }

  private async gateList(startAfter: string | undefined): Promise<void> {
    this.listPages++;
    if (this.holdList(startAfter)) {
      await new Promise<void>((resolve, reject) => {
        this.heldLists.push({ startAfter, release: resolve, fail: reject });
        for (const wake of this.heldWaiters.splice(0)) wake();
      });
    }
    const error = this.failList(startAfter);
    if (error) throw error;
  }

  async close(): Promise<void> {
    return this.inner.close();
  }

  /** Resolves once `count` requests are held. */
  async waitForHeld(count: number): Promise<void> {
    while (this.held.length < count) await new Promise<void>((resolve) => this.heldWaiters.push(resolve));
  }

  releaseAll(): void {
    for (const request of this.held.splice(0)) request.release();
  }

  private async gate(op: Operation, key: string): Promise<void> {
    if (key.endsWith('s3backer-mounted')) return;
    this.counts[op]++;
    const writing = op === 'put' || op === 'delete';
    if (writing) {
      const now = (this.writesInFlight.get(key) ?? 0) + 1;
      this.writesInFlight.set(key, now);
      this.maxWritesInFlightPerKey = Math.max(this.maxWritesInFlightPerKey, now);
    }
    try {
      if (this.hold(op, key)) {
        await new Promise<void>((resolve, reject) => {
          this.held.push({ op, key, release: resolve, fail: reject });
          for (const wake of this.heldWaiters.splice(0)) wake();
        });
      }
      const ms = this.latency(op);
      if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
      const error = this.failWith(op, key);
      if (error) throw error;
    } finally {
      if (writing) this.writesInFlight.set(key, (this.writesInFlight.get(key) ?? 1) - 1);
    }
  }
}
