import { PreconditionFailedError, closedStoreError, copyBuffer, type GetOptions, type ListOptions, type ObjectInfo, type ObjectStore, type PutOptions, type StoredObject } from 's3backer';

/** ETags are opaque (the ObjectStore contract): a counter is as good as an MD5 and costs nothing (an MD5 of 64 KiB costs 0.16 ms). */
let nextEtag = 0;

/** The objects of one memory volume; several store handles (one per mount) may share it. */
export type MemoryVolume = Map<string, StoredObject>;

/**
 * Objects in a Map: for tests and the engine-overhead benchmark. Bodies are copied on the way in
 * and out, so callers may reuse their buffers (the ObjectStore contract). Closing a handle does
 * not drop the volume: a new MemoryStore over the same map is a remount.
 */
export class MemoryStore implements ObjectStore {
  readonly kind = 'memory';
  readonly supports = { conditionalPut: true, metadata: true, conditionalGet: true };
  private closed = false;

  constructor(private readonly objects: MemoryVolume = new Map(), readonly description = 'memory://') {}

  async open(): Promise<void> {
    this.check();
  }

  async get(key: string, options: GetOptions = {}): Promise<StoredObject | null> {
    this.check();
    const object = this.objects.get(key);
    if (object && options.ifMatch !== undefined && object.etag !== options.ifMatch) {
      throw new PreconditionFailedError(key, `object "${key}" has ETag ${object.etag}, not ${options.ifMatch}`);
    }
    return object ? { ...object, metadata: { ...object.metadata }, body: copyBuffer(object.body) } : null;
  }

  async head(key: string): Promise<ObjectInfo | null> {
    this.check();
    const object = this.objects.get(key);
    if (!object) return null;
    const { body: _body, ...info } = object;
    return { ...info, metadata: { ...info.metadata } };
  }

  async put(key: string, body: Buffer, options: PutOptions = {}): Promise<{ etag: string }> {
    this.check();
    if (options.ifNoneMatch === '*' && this.objects.has(key)) throw new PreconditionFailedError(key);
    const etag = `"m${(++nextEtag).toString(16)}"`;
    this.objects.set(key, {
      body: copyBuffer(body),
      etag,
      size: body.length,
      metadata: { ...options.metadata },
      ...(options.contentEncoding === undefined ? {} : { contentEncoding: options.contentEncoding }),
      ...(options.contentType === undefined ? {} : { contentType: options.contentType }),
    });
    return { etag };
  }

  async delete(key: string): Promise<void> {
    this.check();
    this.objects.delete(key);
  }

  async *list(options: ListOptions = {}): AsyncIterable<string> {
    this.check();
    const keys = [...this.objects.keys()]
      .filter((key) => key.startsWith(options.prefix ?? '') && (options.startAfter === undefined || key > options.startAfter))
      .sort();
    yield* keys;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private check(): void {
    if (this.closed) throw closedStoreError(this.kind);
  }
}
