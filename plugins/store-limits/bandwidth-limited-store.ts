import { ForwardingStore, type GetOptions, type ObjectStore, type PutOptions, type StoredObject } from 's3backer';
import type { TokenBucket } from './token-bucket.js';

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
export class BandwidthLimitedStore extends ForwardingStore {
  constructor(inner: ObjectStore, private readonly limits: BandwidthLimits) {
    super(inner);
  }

  override async get(key: string, options?: GetOptions): Promise<StoredObject | null> {
    const object = await this.inner.get(key, options);
    if (object && this.limits.download) await this.limits.download.take(object.body.length, this.stopSignal);
    return object;
  }

  override async put(key: string, body: Buffer, options?: PutOptions): Promise<{ etag: string }> {
    if (this.limits.upload) await this.limits.upload.take(body.length, this.stopSignal);
    return this.inner.put(key, body, options);
  }
}
