import { formatSeconds, type StatsProvider } from '../../src/engine/stats-registry.js';

export type S3Method = 'GET' | 'PUT' | 'DELETE' | 'HEAD' | 'LIST';

/**
 * The C tool's `http_*` stats lines (its fuse_ops.c stats file), counted per HTTP attempt as `http_io.c`
 * does: successes by method with their time, error statuses by class, retries with their pauses.
 * Only counters this client really keeps are printed (no curl_*, no verify/mismatch, no canceled
 * writes; HEAD counts are not printed by the C tool either, so they are not kept).
 */
export class S3Stats implements StatsProvider {
  private isBlockKey: (key: string) => boolean = () => false;
  private normalBlocksRead = 0;
  private normalBlocksWritten = 0;
  private zeroBlocksRead = 0;
  private zeroBlocksWritten = 0;
  private gets = 0;
  private puts = 0;
  private deletes = 0;
  private getMs = 0;
  private putMs = 0;
  private deleteMs = 0;
  private unauthorized = 0;
  private forbidden = 0;
  private stale = 0;
  private redirect = 0;
  private error5xx = 0;
  private error4xx = 0;
  private error3xx = 0;
  private errorOther = 0;
  private retries = 0;
  private retryDelayMs = 0;

  /**
   * The store does not know the volume's geometry when it is created (auto-detection reads block 0
   * through it), so the plugin hands over `geometry.parseKey` at mount; until then no key counts
   * as a block (the mount token and the block-0 probe are not data traffic).
   */
  setBlockKeyClassifier(isBlockKey: (key: string) => boolean): void {
    this.isBlockKey = isBlockKey;
  }

  /** A 2xx answer. LIST pages are GETs on the wire and count as such, as in the C tool. */
  recordSuccess(method: S3Method, key: string | undefined, elapsedMs: number): void {
    const block = key !== undefined && this.isBlockKey(key);
    switch (method) {
      case 'GET':
      case 'LIST':
        this.gets++;
        this.getMs += elapsedMs;
        if (block && method === 'GET') this.normalBlocksRead++;
        break;
      case 'PUT':
        this.puts++;
        this.putMs += elapsedMs;
        if (block) this.normalBlocksWritten++;
        break;
      case 'DELETE':
        this.deletes++;
        this.deleteMs += elapsedMs;
        if (block) this.zeroBlocksWritten++;
        break;
      case 'HEAD':
        break;
    }
  }

  /** A 404 that is an answer, not an error: a GET of a zero block, a DELETE of a missing object. */
  recordNotFound(method: S3Method, key: string): void {
    if (!this.isBlockKey(key)) return;
    if (method === 'GET') this.zeroBlocksRead++;
    // 404 on DELETE is success (http_io.c `http_io_perform_io`), and the C tool then counts the block
    // as written zero.
    else if (method === 'DELETE') this.zeroBlocksWritten++;
  }

  /** An HTTP error status (not a 404 answer), before any retry decision. */
  recordHttpError(status: number): void {
    if (status === 401) this.unauthorized++;
    else if (status === 403) this.forbidden++;
    else if (status === 412) this.stale++;
    else if (status === 301 || status === 302 || status === 307 || status === 308) this.redirect++;
    else if (status >= 500 && status < 600) this.error5xx++;
    else if (status >= 400 && status < 500) this.error4xx++;
    else if (status >= 300 && status < 400) this.error3xx++;
    else this.errorOther++;
  }

  recordRetry(pauseMs: number): void {
    this.retries++;
    this.retryDelayMs += pauseMs;
  }

  lines(): Array<[string, string]> {
    return [
      ['http_normal_blocks_read', String(this.normalBlocksRead)],
      ['http_normal_blocks_written', String(this.normalBlocksWritten)],
      ['http_zero_blocks_read', String(this.zeroBlocksRead)],
      ['http_zero_blocks_written', String(this.zeroBlocksWritten)],
      ['http_gets', String(this.gets)],
      ['http_puts', String(this.puts)],
      ['http_deletes', String(this.deletes)],
      ['http_avg_get_time', formatSeconds(this.getMs, this.gets)],
      ['http_avg_put_time', formatSeconds(this.putMs, this.puts)],
      ['http_avg_delete_time', formatSeconds(this.deleteMs, this.deletes)],
      ['http_unauthorized', String(this.unauthorized)],
      ['http_forbidden', String(this.forbidden)],
      ['http_stale', String(this.stale)],
      ['http_redirect', String(this.redirect)],
      ['http_5xx_error', String(this.error5xx)],
      ['http_4xx_error', String(this.error4xx)],
      ['http_3xx_error', String(this.error3xx)],
      ['http_other_error', String(this.errorOther)],
      ['http_num_retries', String(this.retries)],
      // `%ju.%03u sec` in the C tool: a total, not an average.
      ['http_total_retry_delay', formatSeconds(this.retryDelayMs, 1)],
    ];
  }

  reset(): void {
    this.normalBlocksRead = this.normalBlocksWritten = this.zeroBlocksRead = this.zeroBlocksWritten = 0;
    this.gets = this.puts = this.deletes = 0;
    this.getMs = this.putMs = this.deleteMs = 0;
    this.unauthorized = this.forbidden = this.stale = this.redirect = 0;
    this.error5xx = this.error4xx = this.error3xx = this.errorOther = 0;
    this.retries = this.retryDelayMs = 0;
  }
}
