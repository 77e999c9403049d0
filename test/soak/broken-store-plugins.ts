import type { S3BackerPlugin } from '../../src/engine/plugin.js';
import type { GetOptions, ObjectStore, PutOptions, StoredObject } from '../../src/engine/object-store.js';
import { ForwardingStore } from '../../src/engine/forwarding-store.js';
import { Stage } from '../../src/engine/stages.js';

/** Block objects are named by 8 hex digits (no --prefix, no hash prefix); the mounted flag is left alone. */
const isBlockKey = (key: string) => /^[0-9a-f]{8}$/.test(key);

/** Wrapped nearest the real store, below the chaos store and the retry layer: the store itself is broken. */
const NEAREST_THE_STORE = Stage.STORE_FAULTS - 10;

/** A store that acknowledges every `n`th PUT of a block without storing it: lost writes. */
class DroppingStore extends ForwardingStore {
  private puts = 0;
  dropped = 0;

  constructor(inner: ObjectStore, private readonly n: number) {
    super(inner);
  }

  override async put(key: string, body: Buffer, options?: PutOptions): Promise<{ etag: string }> {
    if (isBlockKey(key) && ++this.puts % this.n === 0) {
      this.dropped++;
      return { etag: `"dropped-${this.puts}"` };
    }
    return this.inner.put(key, body, options);
  }
}

/** A store that answers every `n`th GET of a block with the object's previous version: stale reads. */
class StaleStore extends ForwardingStore {
  private gets = 0;
  private readonly previous = new Map<string, StoredObject | null>();
  stale = 0;

  constructor(inner: ObjectStore, private readonly n: number) {
    super(inner);
  }

  override async put(key: string, body: Buffer, options?: PutOptions): Promise<{ etag: string }> {
    if (isBlockKey(key)) this.previous.set(key, await this.inner.get(key));
    return this.inner.put(key, body, options);
  }

  override async delete(key: string): Promise<void> {
    if (isBlockKey(key)) this.previous.set(key, await this.inner.get(key));
    return this.inner.delete(key);
  }

  override async get(key: string, options?: GetOptions): Promise<StoredObject | null> {
    const current = await this.inner.get(key, options);
    if (!isBlockKey(key) || ++this.gets % this.n !== 0 || !this.previous.has(key)) return current;
    const old = this.previous.get(key)!;
    if (old?.body.equals(current?.body ?? Buffer.alloc(0))) return current;
    this.stale++;
    // The current ETag with the old bytes, as a replica that lags behind would answer.
    return old && current ? { ...old, etag: current.etag } : old;
  }
}

export type BrokenStorePlugin = S3BackerPlugin & { readonly broken: () => number };

function wrapping<T extends ForwardingStore>(name: string, make: (inner: ObjectStore) => T, count: (store: T) => number): BrokenStorePlugin {
  let store: T | undefined;
  return {
    name,
    broken: () => (store ? count(store) : 0),
    apply: (engine) => engine.hooks.wrapStore.tap({ name, stage: NEAREST_THE_STORE }, (inner) => (store = make(inner))),
  };
}

export function dropEveryNthPut(n: number): BrokenStorePlugin {
  return wrapping('drop-every-nth-put', (inner) => new DroppingStore(inner, n), (store) => store.dropped);
}

export function staleEveryNthGet(n: number): BrokenStorePlugin {
  return wrapping('stale-every-nth-get', (inner) => new StaleStore(inner, n), (store) => store.stale);
}
