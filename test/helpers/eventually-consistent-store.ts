import { PreconditionFailedError, type ObjectStore, type StoredObject, type ObjectInfo, type PutOptions, type GetOptions, type ListOptions } from '../../src/engine/object-store.js';
import type { S3BackerPlugin } from '../../src/engine/plugin.js';
import { Stage } from '../../src/engine/stages.js';
import { copyBuffer } from '../../src/engine/copy-buffer.js';

interface Version {
  /** When it was written (ms, performance.now()); -Infinity for what the store held before we looked. */
  readonly at: number;
  /** null: no object (deleted, or never written). */
  readonly object: StoredObject | null;
}

export interface EventuallyConsistentOptions {
  /** For this many ms after a PUT or DELETE, reads still see the version before it. */
  lagMs: number;
  /** Only keys this accepts lag (default: block objects, `%08x` names; the mounted flag stays consistent). */
  lags?: (key: string) => boolean;
  /** Declare no `supports.conditionalGet` and ignore `ifMatch`, as a store without If-Match GETs. */
  noConditionalGet?: boolean;
}

/**
 * A store that is eventually consistent on purpose, for tests of md5-protect: a read (GET, HEAD)
 * sees the newest version written at least `lagMs` ago, as a replica that has not caught up would
 * (S3 before December 2020, some S3-compatible servers). `get(key, { ifMatch })` is honoured
 * against the version seen. Counts reads that returned an older version than the newest.
 */
export class EventuallyConsistentStore implements ObjectStore {
  /** Reads (GET or HEAD) that returned an older version than the newest written. */
  staleReads = 0;
  private readonly history = new Map<string, Version[]>();
  private readonly lags: (key: string) => boolean;

  constructor(private readonly inner: ObjectStore, private readonly options: EventuallyConsistentOptions) {
    this.lags = options.lags ?? ((key) => /(^|\/|-)[0-9a-f]{8}$/.test(key));
  }

  get kind(): string { return this.inner.kind; }
  get description(): string { return `eventually-consistent(${this.options.lagMs} ms) ${this.inner.description}`; }
  get supports(): ObjectStore['supports'] {
    return this.options.noConditionalGet ? { ...this.inner.supports, conditionalGet: false } : this.inner.supports;
  }
  open(): Promise<void> { return this.inner.open(); }
  close(): Promise<void> { return this.inner.close(); }
  list(options?: ListOptions): AsyncIterable<string> { return this.inner.list(options); }
  /** Passed on, as a wrapping store must (the engine's abort at the end of --shutdownTimeout). */
  abort(reason: Error): void { (this.inner as { abort?(reason: Error): void }).abort?.(reason); }

  async get(key: string, options: GetOptions = {}): Promise<StoredObject | null> {
    if (this.options.noConditionalGet) options = {};
    const seen = this.seen(key);
    if (seen === undefined) return this.inner.get(key, options);
    if (seen && options.ifMatch !== undefined && seen.etag !== options.ifMatch) {
      throw new PreconditionFailedError(key, `object "${key}" has ETag ${seen.etag}, not ${options.ifMatch} (a lagging replica)`);
    }
    return seen ? { ...seen, metadata: { ...seen.metadata }, body: copyBuffer(seen.body) } : null;
  }

  async head(key: string): Promise<ObjectInfo | null> {
    const seen = this.seen(key);
    if (seen === undefined) return this.inner.head(key);
    if (!seen) return null;
    const { body: _body, ...info } = seen;
    return { ...info, metadata: { ...info.metadata } };
  }

  async put(key: string, body: Buffer, options?: PutOptions): Promise<{ etag: string }> {
    if (!this.lags(key)) return this.inner.put(key, body, options);
    await this.remember(key);
    const result = await this.inner.put(key, body, options);
    this.record(key, await this.inner.get(key));
    return result;
  }

  async delete(key: string): Promise<void> {
    if (!this.lags(key)) return this.inner.delete(key);
    await this.remember(key);
    await this.inner.delete(key);
    this.record(key, null);
  }

  /** Before the first write of a key: what the store held, visible until the write catches up. */
  private async remember(key: string): Promise<void> {
    if (!this.history.has(key)) this.history.set(key, [{ at: -Infinity, object: await this.inner.get(key) }]);
  }

  private record(key: string, object: StoredObject | null): void {
    this.history.get(key)!.push({ at: performance.now(), object });
  }

  /**
   * The version a read sees now: the newest written at least lagMs ago; undefined when the key
   * was never written through this store (ask the inner store).
   */
  private seen(key: string): StoredObject | null | undefined {
    const versions = this.history.get(key);
    if (!versions) return undefined;
    const horizon = performance.now() - this.options.lagMs;
    let index = 0;
    for (let i = versions.length - 1; i >= 0; i--) {
      if (versions[i]!.at <= horizon) { index = i; break; }
    }
    // Versions older than the one seen can never be seen again.
    if (index > 0) versions.splice(0, index);
    if (versions.length > 1) this.staleReads++;
    return versions[0]!.object;
  }
}

/**
 * Installs an EventuallyConsistentStore around the chosen store, nearest to it (Stage.STORE_FAULTS),
 * and hands each one created to `created` so the test can read its counters.
 */
export function eventuallyConsistentPlugin(options: EventuallyConsistentOptions, created?: (store: EventuallyConsistentStore) => void): S3BackerPlugin {
  return {
    name: 'eventually-consistent',
    apply(engine) {
      engine.hooks.wrapStore.tap({ name: 'eventually-consistent', stage: Stage.STORE_FAULTS }, (inner) => {
        const store = new EventuallyConsistentStore(inner, options);
        created?.(store);
        return store;
      });
    },
  };
}
