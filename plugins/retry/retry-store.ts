import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { ForwardingStore, S3BackerError, type ErrorCode, type GetOptions, type ListOptions, type Logger, type ObjectInfo, type ObjectStore, type PutOptions, type StoredObject } from 's3backer';
import { nextRetryPause, type RetryPolicy } from './retry-policy.js';
import { isThrottling } from './is-throttling.js';
import type { AdaptiveConcurrency } from './adaptive-concurrency.js';
import type { RetryStats } from './retry-stats.js';

export interface RetryStoreOptions {
  policy: RetryPolicy;
  /** The longest one attempt may take, ms (`--timeout`). */
  attemptTimeoutMs: number;
  /** Fewer requests in flight while the server throttles (shared by every request of the store). */
  concurrency?: AdaptiveConcurrency;
  stats?: RetryStats;
  logger?: Logger;
  /** Waits `ms`, rejecting with `signal.reason` when it aborts; injectable so tests do not sleep. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Jitter source in [0, 1] (1 gives the C tool's pauses). */
  random?: () => number;
}

/** Where one request stands: attempts made, pauses taken, and its own time (attempts + pauses). */
interface Progress {
  readonly startedAt: number;
  attempts: number;
  retries: number;
  pausedMs: number;
  spentMs: number;
}

const now = () => performance.now();
const fresh = (): Progress => ({ startedAt: now(), attempts: 0, retries: 0, pausedMs: 0, spentMs: 0 });

const abortableSleep = (ms: number, signal: AbortSignal): Promise<void> =>
  delay(ms, undefined, { signal }).catch(() => { throw signal.reason; });

/** The mark every store puts on a failure that may pass when sent again (S3BackerError.retryable). */
function isRetryable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { retryable?: unknown }).retryable === true;
}

/**
 * Retries, for any store: a failure marked `retryable` (S3BackerError.retryable: a 5xx, throttling,
 * a refused or broken connection, a timeout, whether real or injected by the chaos store below)
 * is sent again after the C tool's pauses with full jitter (retry-policy.ts); anything else is
 * thrown at once. Each retry calls the store again, so the store builds, signs and sends the
 * request anew with the whole body (the C tool's fix #212, "empty payload on retry").
 *
 * Time bounds of one request:
 * - each attempt gets at most `--timeout`; one that takes longer is abandoned and counts as a
 *   (retryable) timeout, whatever the store does about time itself;
 * - pauses add up to at most `--maxRetryPause`;
 * - attempts and pauses together stop at `--timeout + --maxRetryPause` (an attempt still running
 *   then is abandoned). Time queued behind other requests while the server throttles is not
 *   counted: it is the client slowing down on purpose, not the server failing.
 * So a hung server fails a request after `--timeout + --maxRetryPause` (60 s with the defaults;
 * the C tool takes attempts × --timeout + pauses, about 300 s).
 *
 * `abort()` (the engine, at the end of --shutdownTimeout) and `close()` end every attempt and
 * pause in flight at once. An abandoned attempt goes on inside the store until the store's own
 * limit (the s3 store's --timeout) or its abort; its outcome is ignored.
 */
export class RetryStore extends ForwardingStore {
  private readonly policy: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly budgetMs: number;
  private readonly concurrency: AdaptiveConcurrency | undefined;
  private readonly retryStats: RetryStats | undefined;
  private readonly logger: Logger | undefined;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly random: () => number;

  constructor(inner: ObjectStore, options: RetryStoreOptions) {
    super(inner);
    this.policy = options.policy;
    this.timeoutMs = options.attemptTimeoutMs;
    this.budgetMs = options.attemptTimeoutMs + options.policy.maxTotalPauseMs;
    this.concurrency = options.concurrency;
    this.retryStats = options.stats;
    this.logger = options.logger;
    this.sleep = options.sleep ?? abortableSleep;
    this.random = options.random ?? Math.random;
    if (inner.deleteMany) {
      const deleteMany = inner.deleteMany.bind(inner);
      this.deleteMany = (keys) => this.request(`DELETE of ${keys.length} keys`, undefined, () => deleteMany(keys));
    }
  }

  override open(): Promise<void> {
    return this.request('OPEN', undefined, () => this.inner.open());
  }

  override get(key: string, options?: GetOptions): Promise<StoredObject | null> {
    return this.request('GET', key, () => this.inner.get(key, options));
  }

  override head(key: string): Promise<ObjectInfo | null> {
    return this.request('HEAD', key, () => this.inner.head(key));
  }

  override put(key: string, body: Buffer, options?: PutOptions): Promise<{ etag: string }> {
    return this.request('PUT', key, () => this.inner.put(key, body, options));
  }

  override delete(key: string): Promise<void> {
    return this.request('DELETE', key, () => this.inner.delete(key));
  }

  /**
   * Only when the store has it (`deleteMany` is optional). Retried as a whole: deleting is
   * idempotent, and a store reports keys it could not delete in its answer, not by failing.
   */
  declare readonly deleteMany: ObjectStore['deleteMany'];

  /**
   * A listing that fails part way resumes after the last key it yielded (keys come in ascending
   * order, so `startAfter` picks up where it broke). Each key received is progress: the retry
   * budget starts again from there, so a long listing over a flaky link is not failed for the sum
   * of its hiccups.
   */
  override async *list(options: ListOptions = {}): AsyncIterable<string> {
    let after = options.startAfter;
    let keys: AsyncIterator<string> | undefined;
    // An abandoned attempt must not hand back its iterator after a newer attempt started one.
    let generation = 0;
    try {
      for (let progress = fresh(); ; progress = fresh()) {
        const step = await this.request('LIST', options.prefix || undefined, () => {
          const mine = ++generation;
          const from = keys ?? this.inner.list({ ...options, ...(after === undefined ? {} : { startAfter: after }) })[Symbol.asyncIterator]();
          keys = undefined;
          return from.next().then((result) => {
            if (mine === generation) keys = from;
            return result;
          });
        }, progress);
        if (step.done) return;
        after = step.value;
        yield step.value;
      }
    } finally {
      await keys?.return?.().catch(() => {});
    }
  }

  private async request<T>(op: string, key: string | undefined, call: () => Promise<T>, progress: Progress = fresh()): Promise<T> {
    const signal = this.stopSignal;
    for (;;) {
      signal.throwIfAborted();
      const slot = this.concurrency ? await this.concurrency.acquire(signal) : undefined;
      const began = now();
      progress.attempts++;
      try {
        const value = await this.attempt(call, Math.min(this.timeoutMs, this.budgetMs - progress.spentMs), op, key, signal);
        slot?.release('success');
        return value;
      } catch (error) {
        if (slot) this.released(slot, error);
        progress.spentMs += now() - began;
        if (signal.aborted || !isRetryable(error)) throw error;
        const pause = nextRetryPause(this.policy, progress.retries, progress.pausedMs, this.random);
        // No time left for another attempt after the pause: report now rather than after a pointless wait.
        if (pause === undefined || progress.spentMs + pause >= this.budgetMs) throw this.gaveUp(error, progress);
        progress.retries++;
        progress.pausedMs += pause;
        progress.spentMs += pause;
        this.retryStats?.recordRetry(pause);
        // At INFO, as http_io.c logs "retrying query (attempt #N)".
        this.logger?.info(`retrying ${this.what(op, key)} (attempt #${progress.attempts + 1}) in ${pause} ms: ${messageOf(error)}`);
        await this.sleep(pause, signal);
      }
    }
  }

  private released(slot: { release(outcome: 'throttled' | 'failure'): void }, error: unknown): void {
    const throttled = isThrottling(error);
    const before = this.concurrency!.limit;
    slot.release(throttled ? 'throttled' : 'failure');
    const after = this.concurrency!.limit;
    if (after < before) this.logger?.info(`the server asks for fewer requests (${messageOf(error)}); at most ${after} in flight until it stops`);
  }

  /** One attempt, abandoned after `limitMs` or when the store is aborted. */
  private attempt<T>(call: () => Promise<T>, limitMs: number, op: string, key: string | undefined, signal: AbortSignal): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const settle = (): boolean => {
        if (settled) return false;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        return true;
      };
      const onAbort = (): void => { if (settle()) reject(signal.reason); };
      const timer = setTimeout(() => { if (settle()) reject(this.timeoutError(op, key, limitMs)); }, limitMs);
      signal.addEventListener('abort', onAbort, { once: true });
      let pending: Promise<T>;
      try {
        pending = call();
      } catch (error) {
        if (settle()) reject(error);
        return;
      }
      pending.then((value) => { if (settle()) resolve(value); }, (error: unknown) => { if (settle()) reject(error); });
    });
  }

  private timeoutError(op: string, key: string | undefined, limitMs: number): S3BackerError {
    const cut = limitMs < this.timeoutMs;
    const cause = Object.assign(new Error(`no answer within ${limitMs} ms`), { name: 'TimeoutError', code: 'ETIMEDOUT' });
    return new S3BackerError('S3B_BACKEND_UNREACHABLE',
      `${this.what(op, key)} at ${this.description}: no answer within ${seconds(limitMs)} s (${cut ? 'what was left of the request\'s --timeout + --maxRetryPause' : '--timeout'}); is the server running? check that the store is reachable, or raise --timeout/--maxRetryPause`,
      { cause, retryable: true });
  }

  /** The last failure, saying how long we tried; no longer retryable (a layer above must not start over). */
  private gaveUp(error: unknown, progress: Progress): S3BackerError {
    const code = typeof (error as { code?: unknown }).code === 'string' && (error as { code: string }).code.startsWith('S3B_')
      ? (error as { code: ErrorCode }).code : 'S3B_BACKEND_IO';
    return new S3BackerError(code,
      `gave up after ${progress.attempts} attempts in ${seconds(now() - progress.startedAt)} s (${seconds(progress.pausedMs)} s of pauses; --timeout=${seconds(this.timeoutMs)} s per attempt, --maxRetryPause=${this.policy.maxTotalPauseMs} ms of pauses): ${messageOf(error)}`,
      { cause: error });
  }

  /** `GET vol/0000002a`, as the s3 store names its requests. */
  private what(op: string, key: string | undefined): string {
    return key === undefined ? op : `${op} ${key}`;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(ms < 10_000 ? 3 : 1).replace(/\.?0+$/, '') || '0';
}
