import { setMaxListeners } from 'node:events';
import type { ObjectStore, StoredObject, ObjectInfo, PutOptions, ListOptions, StoreSupports } from '../../src/engine/object-store.js';
import { closedStoreError } from '../../src/engine/closed-store-error.js';
import type { TokenBucket } from './token-bucket.js';

type GetOptions = Parameters<ObjectStore['get']>[1];

export interface BandwidthLimits {
  /** `--maxUploadSpeed`: PUT bodies. */
  upload?: TokenBucket;
  /** `--maxDownloadSpeed`: GET bodies. */
  download?: TokenBucket;
}

/**
 * `--maxUploadSpeed` / `--maxDownloadSpeed` for any store: one token bucket per direction, shared
 * by every request, charged with the body bytes of blocks. An upload waits for its bytes before
 * it is sent; a download is charged once its body has arrived, and handed over when its bytes are
 * paid for. The C tool asks libcurl to cap each transfer (CURLOPT_MAX_SEND_SPEED_LARGE and
 * CURLOPT_MAX_RECV_SPEED_LARGE in http_io.c), so N transfers in parallel may use N times the
 * speed; here the speed is the client's total, whatever the number of requests in flight.
 *
 * It sits above the retry layer (Stage.STORE_LIMITS): a request is charged once however many
 * attempts it takes, and the time it waits here is not taken from its --timeout.
 */
export class BandwidthLimitedStore implements ObjectStore {
  readonly kind: string;
  readonly description: string;
  readonly supports: StoreSupports;
  readonly deleteMany: ObjectStore['deleteMany'];
  private readonly aborter = new AbortController();

  constructor(private readonly inner: ObjectStore, private readonly limits: BandwidthLimits) {
    this.kind = inner.kind;
    this.description = inner.description;
    this.supports = inner.supports;
    if (inner.deleteMany) this.deleteMany = inner.deleteMany.bind(inner);
    setMaxListeners(0, this.aborter.signal);
  }

  open(): Promise<void> {
    return this.inner.open();
  }

  async get(key: string, options?: GetOptions): Promise<StoredObject | null> {
    const object = await this.inner.get(key, options);
    if (object && this.limits.download) await this.limits.download.take(object.body.length, this.aborter.signal);
    return object;
  }

  head(key: string): Promise<ObjectInfo | null> {
    return this.inner.head(key);
  }

  async put(key: string, body: Buffer, options?: PutOptions): Promise<{ etag: string }> {
    if (this.limits.upload) await this.limits.upload.take(body.length, this.aborter.signal);
    return this.inner.put(key, body, options);
  }

  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }

  list(options?: ListOptions): AsyncIterable<string> {
    return this.inner.list(options);
  }

  async close(): Promise<void> {
    if (!this.aborter.signal.aborted) this.aborter.abort(closedStoreError(this.kind));
    await this.inner.close();
  }

  abort(reason: Error): void {
    if (!this.aborter.signal.aborted) this.aborter.abort(reason);
    this.inner.abort?.(reason);
  }
}
