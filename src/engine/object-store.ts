/**
 * The object-store contract every backend implements (the "private API", abstract-level style):
 * get / put / delete / head / list over whole objects named by full keys. The engine computes key
 * names (prefix, hash, block number); a store never interprets them.
 */

/** What a store can do, declared by the store itself; tests skip cases only by this manifest. */
export interface StoreSupports {
  /** `put(..., { ifNoneMatch: '*' })` fails with `PreconditionFailedError` when the key exists. */
  conditionalPut: boolean;
  /** Metadata and Content-Encoding survive a round trip. */
  metadata: boolean;
  /**
   * `get(key, { ifMatch })` fails with `PreconditionFailedError` when the object's ETag is another
   * (S3's If-Match GET, answered 412). Optional: a store without it may ignore the option, so a
   * caller still compares the ETag it gets back (md5-protect does, plugins/md5-protect).
   */
  conditionalGet?: boolean;
}

export interface ObjectInfo {
  /** An opaque version token (never assumed to be an MD5). */
  etag: string;
  /** Lower-case metadata names without the `x-amz-meta-` prefix. */
  metadata: Record<string, string>;
  contentEncoding?: string;
  contentType?: string;
  size: number;
}

export interface StoredObject extends ObjectInfo {
  body: Buffer;
}

export interface PutOptions {
  metadata?: Record<string, string>;
  contentEncoding?: string;
  contentType?: string;
  /** `'*'`: only create, never overwrite (needs `supports.conditionalPut`). */
  ifNoneMatch?: '*';
}

export interface GetOptions {
  /** Only this version: another ETag fails with `PreconditionFailedError` (needs `supports.conditionalGet`). */
  ifMatch?: string;
}

export interface ListOptions {
  /** Only keys that start with this. */
  prefix?: string;
  /** Only keys that sort after this. */
  startAfter?: string;
}

/** What `deleteMany` reports: the keys it could not delete, each with the store's reason. */
export interface DeleteManyResult {
  failed: Array<{ key: string; error: string }>;
}

export interface ObjectStore {
  /** Short name for messages and stats ("s3", "dir", "memory"). */
  readonly kind: string;
  /** Human description of where the objects live, e.g. `http://127.0.0.1:4568/bucket/prefix`. */
  readonly description: string;
  readonly supports: StoreSupports;
  /** Check the bucket/directory exists and the credentials work; first I/O of a mount. */
  open(): Promise<void>;
  /** `null` when the object does not exist (with `ifMatch` too, as S3 answers 404 before 412). */
  get(key: string, options?: GetOptions): Promise<StoredObject | null>;
  /** `null` when the object does not exist. */
  head(key: string): Promise<ObjectInfo | null>;
  /** Stores `body` (which the caller may reuse once the promise settles). */
  put(key: string, body: Buffer, options?: PutOptions): Promise<{ etag: string }>;
  /** Deleting a missing object succeeds. */
  delete(key: string): Promise<void>;
  /**
   * Optional: delete many objects in few requests (S3 DeleteObjects). Deleting a missing object
   * succeeds, as with `delete`. Resolves with the keys that could not be deleted; rejects when
   * the request as a whole failed (nothing is known then). A store without it, or a wrapper that
   * does not pass it on, is served one `delete` per key.
   */
  deleteMany?(keys: string[]): Promise<DeleteManyResult>;
  /** Keys in ascending order. */
  list(options?: ListOptions): AsyncIterable<string>;
  /** After close every operation fails with S3B_STORE_CLOSED. */
  close(): Promise<void>;
  /**
   * Optional: make every request in flight, and every later one, fail at once with `reason`,
   * without waiting for an answer. The engine calls it when an unmount's --shutdownTimeout expires
   * with requests still unanswered (a hung server), so the unmount ends; close() still follows. A
   * store that wraps another forwards it (`inner.abort?.(reason)`) after ending its own waits.
   */
  abort?(reason: Error): void;
}

/** Thrown by `put` with `ifNoneMatch: '*'` when the object already exists, and by `get` with `ifMatch` when its ETag is another. */
export class PreconditionFailedError extends Error {
  constructor(readonly key: string, message = `object "${key}" already exists`) {
    super(message);
    this.name = 'PreconditionFailedError';
  }
}
