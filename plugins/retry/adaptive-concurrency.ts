/** How an attempt that held a slot ended. */
export type AttemptOutcome = 'success' | 'throttled' | 'failure';

export interface ConcurrencySlot {
  /** Give the slot back, saying how the attempt ended (once). */
  release(outcome: AttemptOutcome): void;
}

interface Waiter {
  grant(): void;
}

/**
 * How many store requests may be in flight at once, adapted AIMD style to the server's throttling
 * (TCP's congestion avoidance, applied to requests): S3 answers 503 SlowDown (or 429) when a
 * client sends more than its prefix can take, and retrying every refused request at once only
 * makes more refusals. So:
 *
 * - Until the first throttling answer nothing is limited: the block cache's threads and the HTTP
 *   agent's sockets already bound the requests, as in the C tool.
 * - A throttling answer halves the limit, starting from the requests in flight (never from an
 *   unreached ceiling), down to 1. The other answers to requests sent before that halving are the
 *   same congestion, not a new one: they do not halve again (one decrease per round trip).
 * - Each window of `limit` successes raises the limit by one, up to `ceiling` (the configured
 *   parallelism); reaching it lifts the limit again.
 *
 * Requests over the limit wait in order of arrival. Failures other than throttling change nothing:
 * a server that does not answer is not asking for fewer requests.
 */
export class AdaptiveConcurrency {
  private current = Infinity;
  private active = 0;
  private successes = 0;
  /** Bumped at each decrease: answers to attempts started before it were already reacted to. */
  private epoch = 0;
  private throttledCount = 0;
  private readonly queue: Waiter[] = [];

  constructor(readonly ceiling: number) {
    if (!(ceiling >= 1)) throw new RangeError(`the concurrency ceiling must be at least 1, not ${ceiling}`);
  }

  /** The limit now; Infinity while nothing is limited. */
  get limit(): number {
    return this.current;
  }

  /** Attempts holding a slot now. */
  get inFlight(): number {
    return this.active;
  }

  /** Attempts waiting for a slot. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Throttling answers seen. */
  get throttled(): number {
    return this.throttledCount;
  }

  /** A slot, at once when under the limit, else when one frees up; rejects with the signal's reason when it aborts. */
  acquire(signal?: AbortSignal): Promise<ConcurrencySlot> | ConcurrencySlot {
    signal?.throwIfAborted();
    if (this.active < this.current && this.queue.length === 0) return this.take();
    return new Promise<ConcurrencySlot>((resolve, reject) => {
      const onAbort = (): void => {
        const index = this.queue.indexOf(waiter);
        if (index >= 0) this.queue.splice(index, 1);
        reject(signal!.reason);
      };
      const waiter: Waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(this.take());
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(waiter);
    });
  }

  private take(): ConcurrencySlot {
    this.active++;
    const epoch = this.epoch;
    let released = false;
    return {
      release: (outcome) => {
        if (released) return;
        released = true;
        this.settle(outcome, epoch);
        this.active--;
        this.wake();
      },
    };
  }

  private settle(outcome: AttemptOutcome, epoch: number): void {
    if (outcome === 'throttled') {
      this.throttledCount++;
      if (epoch !== this.epoch) return;
      // `active` still counts this attempt: the requests that together were too many.
      this.current = Math.max(1, Math.floor(Math.min(this.current, this.active, this.ceiling) / 2));
      this.successes = 0;
      this.epoch++;
    } else if (outcome === 'success' && this.current !== Infinity) {
      if (++this.successes < this.current) return;
      this.successes = 0;
      this.current = this.current + 1 >= this.ceiling ? Infinity : this.current + 1;
    }
  }

  private wake(): void {
    while (this.queue.length > 0 && this.active < this.current) this.queue.shift()!.grant();
  }
}
