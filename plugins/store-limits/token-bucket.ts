import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';

export interface TokenBucketOptions {
  /** Bytes per second. */
  rate: number;
  /** Bytes that may go at once after a quiet time. Default: a tenth of a second's worth. */
  burst?: number;
  /** Injectable clock (ms), for tests. */
  now?: () => number;
}

/**
 * A token bucket shared by every request of one direction: it fills at `rate` bytes per second up
 * to `burst`. A request takes its bytes at once, even more than the bucket holds (a block can be
 * larger than the burst), leaving the bucket in debt, and waits until the debt is paid off: so
 * each request is let through when its bytes would have finished at `rate`, and the next ones
 * queue behind it in arrival order. Over any stretch longer than the burst, the bytes let through
 * stay within `rate`.
 */
export class TokenBucket {
  readonly rate: number;
  readonly burst: number;
  private readonly now: () => number;
  private level: number;
  private updated: number;

  constructor(options: TokenBucketOptions) {
    if (!(options.rate > 0)) throw new RangeError(`a token bucket needs a rate above 0, not ${options.rate}`);
    this.rate = options.rate;
    this.burst = options.burst ?? options.rate / 10;
    this.now = options.now ?? (() => performance.now());
    this.level = this.burst;
    this.updated = this.now();
  }

  /** The wait, ms, before `bytes` may go; the bytes are taken now. */
  reserve(bytes: number): number {
    const now = this.now();
    this.level = Math.min(this.burst, this.level + ((now - this.updated) * this.rate) / 1000);
    this.updated = now;
    this.level -= bytes;
    return this.level >= 0 ? 0 : (-this.level * 1000) / this.rate;
  }

  /** Take `bytes` and wait for them; rejects with the signal's reason when it aborts. */
  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (bytes <= 0) return;
    const wait = this.reserve(bytes);
    if (wait <= 0) return;
    await delay(wait, undefined, signal ? { signal } : {}).catch((error: unknown) => { throw signal?.reason ?? error; });
  }
}
