import { setMaxListeners } from 'node:events';
import type {
  GetOptions, ListOptions, ObjectInfo, ObjectStore, PutOptions, StoredObject, StoreSupports,
} from './object-store.js';
import { closedStoreError } from './closed-store-error.js';

/**
 * The base of a store that wraps another (docs/plugins.md, "Wrapping a store"): every method,
 * the optional ones included, is handed to `inner` unchanged; a subclass overrides what it changes.
 *
 * - `kind`, `description` and `supports` are the inner store's (a subclass may redeclare them).
 * - `deleteMany` is offered only when the inner store has it. A subclass that wraps it redeclares
 *   the field and sets it in its constructor; one that must see every key deleted sets it to
 *   `undefined`, and is then served one `delete` per key.
 * - `stopSignal` aborts at `close()` (with S3B_STORE_CLOSED) and at `abort(reason)` (with the
 *   reason) before the inner store is told: a subclass ends its own waits (pauses, queues) with it.
 */
export class ForwardingStore implements ObjectStore {
  readonly kind: string;
  readonly description: string;
  readonly supports: StoreSupports;
  readonly deleteMany: ObjectStore['deleteMany'];
  private readonly stopper = new AbortController();

  constructor(protected readonly inner: ObjectStore) {
    this.kind = inner.kind;
    this.description = inner.description;
    this.supports = inner.supports;
    if (inner.deleteMany) this.deleteMany = inner.deleteMany.bind(inner);
    // Every request waiting in a subclass listens to it.
    setMaxListeners(0, this.stopper.signal);
  }

  /** Aborted by `close()` or `abort()`: what a subclass's own waits listen to. */
  protected get stopSignal(): AbortSignal {
    return this.stopper.signal;
  }

  open(): Promise<void> {
    return this.inner.open();
  }

  get(key: string, options?: GetOptions): Promise<StoredObject | null> {
    return this.inner.get(key, options);
  }

  head(key: string): Promise<ObjectInfo | null> {
    return this.inner.head(key);
  }

  put(key: string, body: Buffer, options?: PutOptions): Promise<{ etag: string }> {
    return this.inner.put(key, body, options);
  }

  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }

  list(options?: ListOptions): AsyncIterable<string> {
    return this.inner.list(options);
  }

  /** Ends the subclass's waits (S3B_STORE_CLOSED), then closes the inner store. */
  async close(): Promise<void> {
    this.stop(closedStoreError(this.kind));
    await this.inner.close();
  }

  /** Ends the subclass's waits with `reason`, then passes the abort on. */
  abort(reason: Error): void {
    this.stop(reason);
    this.inner.abort?.(reason);
  }

  private stop(reason: Error): void {
    if (!this.stopper.signal.aborted) this.stopper.abort(reason);
  }
}
