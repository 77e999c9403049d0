import { formatSeconds, type StatsProvider } from 's3backer';
import type { S3Failure } from './s3-failure.js';

export type S3Method = 'GET' | 'PUT' | 'DELETE' | 'HEAD' | 'LIST';

/** Node socket codes that are libcurl's CURLE_COULDNT_RESOLVE_HOST (the C tool's curl_host_unknown). */
const HOST_UNKNOWN_CODES: ReadonlySet<string> = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL']);
/** ... and CURLE_COULDNT_CONNECT (curl_connect_failed): no connection was made. */
const CONNECT_FAILED_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'EHOSTDOWN', 'ENETUNREACH', 'ENETDOWN', 'EADDRNOTAVAIL']);

/**
 * The C tool's `http_*` and `curl_*` stats lines (its fuse_ops.c stats file), counted per HTTP
 * attempt as `http_io.c` does: successes by method with their time, error statuses by class, and
 * failures without an answer by what went wrong (http_io.c `http_io_perform_io`: a timeout is
 * curl_timeouts, a refused connection curl_connect_failed, an unknown host curl_host_unknown, a
 * connection broken mid-answer curl_other_error). Retries are the retry layer's
 * (`http_num_retries`, plugins/retry/retry-stats.ts). Only counters this client really keeps are
 * printed (no verify/mismatch, no canceled writes, no curl handle reuse or out-of-memory; HEAD
 * counts are not printed by the C tool either, so they are not kept).
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
  private curlTimeouts = 0;
  private curlConnectFailed = 0;
  private curlHostUnknown = 0;
  private curlOther = 0;

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

  /** A failed attempt (not a 404 answer): its status class, or what kept the answer from coming. */
  recordFailure(failure: S3Failure): void {
    if (failure.status !== undefined) {
      if (failure.status !== 404) this.recordHttpError(failure.status);
      return;
    }
    // Not a transport failure (no credentials, an answer the SDK could not parse): no curl counter says it.
    if (failure.kind !== 'network' && failure.kind !== 'timeout') return;
    const code = failure.code ?? '';
    if (HOST_UNKNOWN_CODES.has(code)) this.curlHostUnknown++;
    else if (CONNECT_FAILED_CODES.has(code)) this.curlConnectFailed++;
    // The SDK names a reset connection a TimeoutError too; the socket's code says which it was.
    else if (code === 'ETIMEDOUT' || code === 'ERR_SOCKET_CONNECTION_TIMEOUT' || (failure.kind === 'timeout' && code === '')) this.curlTimeouts++;
    else this.curlOther++;
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
      ['curl_timeouts', String(this.curlTimeouts)],
      ['curl_connect_failed', String(this.curlConnectFailed)],
      ['curl_host_unknown', String(this.curlHostUnknown)],
      ['curl_other_error', String(this.curlOther)],
    ];
  }

  reset(): void {
    this.normalBlocksRead = this.normalBlocksWritten = this.zeroBlocksRead = this.zeroBlocksWritten = 0;
    this.gets = this.puts = this.deletes = 0;
    this.getMs = this.putMs = this.deleteMs = 0;
    this.unauthorized = this.forbidden = this.stale = this.redirect = 0;
    this.error5xx = this.error4xx = this.error3xx = this.errorOther = 0;
    this.curlTimeouts = this.curlConnectFailed = this.curlHostUnknown = this.curlOther = 0;
  }
}
