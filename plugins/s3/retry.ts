/**
 * The C tool's back-off (http_io.c, `http_io_perform_io`): the first pause is
 * `initialRetryPause`, each next one doubles, and the last is trimmed so that the SUM of the pauses
 * never exceeds `maxRetryPause`; once the sum reaches it, the error is reported. With the defaults
 * (200 ms, 30 s) that is 200, 400, ... 12800, 3000 ms: about 8 retries, not counting request time.
 */
export interface RetryPolicy {
  /** First pause, ms (`--initialRetryPause`). */
  initialPauseMs: number;
  /** Budget for the sum of all pauses of one request, ms (`--maxRetryPause`). */
  maxTotalPauseMs: number;
}

/**
 * The pause before retry number `retriesSoFar + 1`, or undefined when the budget is spent.
 * Pure, so the schedule is unit-tested without waiting.
 */
export function nextRetryPause(policy: RetryPolicy, retriesSoFar: number, pausedSoFarMs: number): number | undefined {
  const left = policy.maxTotalPauseMs - pausedSoFarMs;
  if (left <= 0) return undefined;
  // A zero initial pause would double to zero forever and never spend the budget (the C tool would
  // spin); start at 1 ms instead.
  const first = Math.max(policy.initialPauseMs, 1);
  return Math.min(first * 2 ** retriesSoFar, left);
}

/** Every pause the policy allows, in order: what a request that always fails would wait. */
export function retrySchedule(policy: RetryPolicy): number[] {
  const pauses: number[] = [];
  let total = 0;
  for (let pause = nextRetryPause(policy, 0, 0); pause !== undefined; pause = nextRetryPause(policy, pauses.length, total)) {
    pauses.push(pause);
    total += pause;
  }
  return pauses;
}

export interface RetryHooks {
  /** Whether this failure may go away by itself (5xx, throttling, network); others are thrown at once. */
  isRetryable(error: unknown): boolean;
  /** Waits; injectable so tests do not sleep. */
  sleep(ms: number): Promise<void>;
  /** Called before each pause (stats: `http_num_retries`, `http_total_retry_delay`; debug log). */
  onRetry?(error: unknown, pauseMs: number, retry: number): void;
}

/** Thrown by `withRetry` when the budget is spent; `cause` is the last failure. */
export class RetriesExhaustedError extends Error {
  constructor(readonly attempts: number, readonly pausedMs: number, cause: unknown) {
    super(`gave up after ${attempts} attempts and ${pausedMs} ms of pauses`, { cause });
    this.name = 'RetriesExhaustedError';
  }
}

/**
 * Run `attempt` until it succeeds, fails with a non-retryable error (rethrown as is), or the pause
 * budget is spent (RetriesExhaustedError with the last error as cause). `attempt` must rebuild its
 * request each time (fix #212 in the C tool: an upload buffer consumed by the first try).
 */
export async function withRetry<T>(policy: RetryPolicy, hooks: RetryHooks, attempt: () => Promise<T>): Promise<T> {
  let retries = 0;
  let paused = 0;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (!hooks.isRetryable(error)) throw error;
      const pause = nextRetryPause(policy, retries, paused);
      if (pause === undefined) throw new RetriesExhaustedError(retries + 1, paused, error);
      retries++;
      paused += pause;
      hooks.onRetry?.(error, pause, retries);
      await hooks.sleep(pause);
    }
  }
}

export const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
