/**
 * When to retry a failed request, after the C tool's back-off (http_io.c, `http_io_perform_io`):
 * the first pause is `initialRetryPause`, each next one doubles, and the last is trimmed so that
 * the SUM of the pauses never exceeds `maxRetryPause`; once the sum reaches it, the error is
 * reported. With the defaults (200 ms, 30 s) that is 200, 400, ... 12800, 4600 ms.
 *
 * One change: full jitter (each pause is drawn uniformly from 0 to the C tool's pause), so clients
 * that failed together do not retry together. The doubling goes on whatever was drawn, so a
 * request makes about as many attempts as in the C tool; the last pause is not drawn but waits out
 * what is left of the budget, so the last attempt comes, as in the C tool, once `maxRetryPause` of
 * pausing has passed: an outage shorter than that is outlasted.
 */
export interface RetryPolicy {
  /** First pause, ms (`--initialRetryPause`). */
  initialPauseMs: number;
  /** Budget for the sum of all pauses of one request, ms (`--maxRetryPause`). */
  maxTotalPauseMs: number;
}

/**
 * The C tool's pause before retry number `retriesSoFar + 1`, given the pauses taken so far, or
 * undefined when the budget is spent.
 */
export function pauseCeiling(policy: RetryPolicy, retriesSoFar: number, pausedSoFarMs: number): number | undefined {
  const left = policy.maxTotalPauseMs - pausedSoFarMs;
  if (left <= 0) return undefined;
  // A zero initial pause would double to zero forever and never spend the budget (the C tool would
  // spin); start at 1 ms instead.
  const first = Math.max(policy.initialPauseMs, 1);
  return Math.min(first * 2 ** retriesSoFar, left);
}

/**
 * The pause before the next retry, jittered (`random` in [0, 1]; 1 gives the C tool's pause), or
 * undefined when the budget is spent. Pure apart from `random`, so the schedule is unit-tested
 * without waiting.
 */
export function nextRetryPause(policy: RetryPolicy, retriesSoFar: number, pausedSoFarMs: number, random: () => number = Math.random): number | undefined {
  const ceiling = pauseCeiling(policy, retriesSoFar, pausedSoFarMs);
  if (ceiling === undefined) return undefined;
  const left = policy.maxTotalPauseMs - pausedSoFarMs;
  // The trimmed last pause of the C schedule: wait out the budget.
  if (ceiling >= left) return left;
  return Math.round(random() * ceiling);
}

/** The C tool's pauses, in order, without jitter: what a request that always fails waits at most per retry. */
export function retrySchedule(policy: RetryPolicy): number[] {
  const pauses: number[] = [];
  let total = 0;
  for (let pause = pauseCeiling(policy, 0, 0); pause !== undefined; pause = pauseCeiling(policy, pauses.length, total)) {
    pauses.push(pause);
    total += pause;
  }
  return pauses;
}
