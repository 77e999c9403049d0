import { formatSeconds, type StatsProvider } from 's3backer';
import type { AdaptiveConcurrency } from './adaptive-concurrency.js';

/**
 * The retry layer's lines in the stats file. Over the s3 store they carry the C tool's names,
 * `http_num_retries` and `http_total_retry_delay` (its retries are those of HTTP requests, counted
 * in http_io.c); over any other store, `store_num_retries` and `store_total_retry_delay`, since
 * no HTTP is involved. Then ours: throttling answers seen, and the adaptive limit on requests in
 * flight (0 while nothing is limited).
 */
export class RetryStats implements StatsProvider {
  private retries = 0;
  private retryDelayMs = 0;
  private throttledBase = 0;

  constructor(private readonly prefix: 'http' | 'store', private readonly concurrency?: AdaptiveConcurrency) {}

  recordRetry(pauseMs: number): void {
    this.retries++;
    this.retryDelayMs += pauseMs;
  }

  get numRetries(): number {
    return this.retries;
  }

  get totalRetryDelayMs(): number {
    return this.retryDelayMs;
  }

  lines(): Array<[string, string]> {
    const lines: Array<[string, string]> = [
      [`${this.prefix}_num_retries`, String(this.retries)],
      // `%ju.%03u sec` in the C tool: a total, not an average.
      [`${this.prefix}_total_retry_delay`, formatSeconds(this.retryDelayMs, 1)],
    ];
    if (this.concurrency) {
      const limit = this.concurrency.limit;
      lines.push(['store_throttled_answers', String(this.concurrency.throttled - this.throttledBase)]);
      lines.push(['store_in_flight_limit', String(limit === Infinity ? 0 : limit)]);
    }
    return lines;
  }

  reset(): void {
    this.retries = this.retryDelayMs = 0;
    // The limiter's count is its own; reset counts from here (the limit itself is a state, not a counter).
    this.throttledBase = this.concurrency?.throttled ?? 0;
  }
}
