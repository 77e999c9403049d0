// The retry layer's schedule (plugins/retry/retry-policy.ts): the C tool's doubling pauses within
// --maxRetryPause, each drawn with full jitter, the last one waiting out the budget.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nextRetryPause, pauseCeiling, retrySchedule, type RetryPolicy } from '../../plugins/retry/index.js';
// A small deterministic PRNG, so a failure names the seed that shows it.
import { seededRandom as seeded } from '../../plugins/chaos/seeded-random.js';

/** Every pause a request that always fails takes, with the ceiling each was drawn under. */
function run(policy: RetryPolicy, random: () => number): Array<{ pause: number; ceiling: number }> {
  const pauses: Array<{ pause: number; ceiling: number }> = [];
  let paused = 0;
  for (;;) {
    const ceiling = pauseCeiling(policy, pauses.length, paused);
    const pause = nextRetryPause(policy, pauses.length, paused, random);
    if (pause === undefined) return pauses;
    pauses.push({ pause, ceiling: ceiling! });
    paused += pause;
  }
}

test('full jitter: each pause is drawn from 0 to the C tool\'s pause, the last waits out the budget, the sum is exactly --maxRetryPause', { timeout: 30_000 }, () => {
  const policies: RetryPolicy[] = [
    { initialPauseMs: 200, maxTotalPauseMs: 30_000 },
    { initialPauseMs: 10, maxTotalPauseMs: 100 },
    { initialPauseMs: 1, maxTotalPauseMs: 5_000 },
    { initialPauseMs: 500, maxTotalPauseMs: 100 },
  ];
  for (const policy of policies) {
    const c = retrySchedule(policy);
    const seen = new Set<string>();
    for (let seed = 1; seed <= 200; seed++) {
      const pauses = run(policy, seeded(seed));
      const what = `${JSON.stringify(policy)}, seed ${seed}: ${pauses.map((p) => p.pause).join(', ')}`;
      seen.add(pauses.map((p) => p.pause).join(','));
      assert.equal(pauses.reduce((sum, p) => sum + p.pause, 0), policy.maxTotalPauseMs, `${what}: the whole budget, no more`);
      for (const [i, { pause, ceiling }] of pauses.entries()) {
        assert.ok(pause >= 0 && pause <= ceiling, `${what}: pause ${i} within [0, ${ceiling}]`);
        assert.ok(ceiling <= Math.max(policy.initialPauseMs, 1) * 2 ** i, `${what}: ceiling ${i} doubles from --initialRetryPause`);
      }
      // The doubling goes on whatever was drawn: about as many attempts as the C tool makes, never many more.
      assert.ok(pauses.length >= c.length && pauses.length <= c.length + 1, `${what}: ${pauses.length} retries vs the C tool's ${c.length}`);
    }
    if (c.length > 1) assert.ok(seen.size > 100, `${JSON.stringify(policy)}: jittered (${seen.size} distinct schedules of 200)`);
  }
});

test('jitter at its extremes: 1 gives the C tool\'s schedule, 0 retries at once until the last pause', { timeout: 30_000 }, () => {
  const policy = { initialPauseMs: 200, maxTotalPauseMs: 30_000 };
  assert.deepEqual(run(policy, () => 1).map((p) => p.pause), retrySchedule(policy));
  assert.deepEqual(retrySchedule(policy), [200, 400, 800, 1600, 3200, 6400, 12800, 4600]);
  const eager = run(policy, () => 0).map((p) => p.pause);
  assert.deepEqual(eager, [0, 0, 0, 0, 0, 0, 0, 0, 30_000]);
  assert.equal(nextRetryPause(policy, 3, 30_000, () => 0.5), undefined, 'no budget left: give up');
  assert.equal(nextRetryPause({ initialPauseMs: 200, maxTotalPauseMs: 0 }, 0, 0), undefined, 'no budget: no retries');
});
