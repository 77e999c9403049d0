import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nextRetryPause, retrySchedule, withRetry, RetriesExhaustedError } from '../../plugins/s3/retry.js';
import { describeFailure, isRetryableFailure } from '../../plugins/s3/s3-failure.js';

test('retry schedule: doubling pauses, the last trimmed so the sum is exactly the budget (as in the C tool\'s http_io_perform_io)', () => {
  assert.deepEqual(retrySchedule({ initialPauseMs: 10, maxTotalPauseMs: 100 }), [10, 20, 40, 30]);
  // The C defaults: 200 ms doubling within 30 s of pauses.
  const defaults = retrySchedule({ initialPauseMs: 200, maxTotalPauseMs: 30_000 });
  assert.deepEqual(defaults, [200, 400, 800, 1600, 3200, 6400, 12800, 4600]);
  assert.equal(defaults.reduce((a, b) => a + b, 0), 30_000);
  assert.deepEqual(retrySchedule({ initialPauseMs: 10, maxTotalPauseMs: 70 }), [10, 20, 40]);
  assert.deepEqual(retrySchedule({ initialPauseMs: 500, maxTotalPauseMs: 100 }), [100]);
  assert.deepEqual(retrySchedule({ initialPauseMs: 200, maxTotalPauseMs: 0 }), [], 'no budget: no retries');
  assert.deepEqual(retrySchedule({ initialPauseMs: 0, maxTotalPauseMs: 7 }), [1, 2, 4], 'a zero first pause still ends');
  assert.equal(nextRetryPause({ initialPauseMs: 10, maxTotalPauseMs: 100 }, 4, 100), undefined);
});

test('withRetry: retries retryable failures with the schedule, then gives up with the last cause', async () => {
  const sleeps: number[] = [];
  let attempts = 0;
  const failure = Object.assign(new Error('boom'), { $metadata: { httpStatusCode: 503 } });
  await assert.rejects(withRetry({ initialPauseMs: 10, maxTotalPauseMs: 100 }, {
    isRetryable: () => true,
    sleep: async (ms) => { sleeps.push(ms); },
  }, async () => { attempts++; throw failure; }), (error: unknown) =>
    error instanceof RetriesExhaustedError && error.cause === failure && error.attempts === 5 && error.pausedMs === 100);
  assert.equal(attempts, 5);
  assert.deepEqual(sleeps, [10, 20, 40, 30]);
});

test('withRetry: a non-retryable failure is thrown at once; success after retries returns the value', async () => {
  const sleeps: number[] = [];
  const hooks = { isRetryable: (e: unknown) => (e as Error).message === 'transient', sleep: async (ms: number) => { sleeps.push(ms); } };
  const fatal = new Error('fatal');
  await assert.rejects(withRetry({ initialPauseMs: 10, maxTotalPauseMs: 100 }, hooks, async () => { throw fatal; }), (e) => e === fatal);
  assert.deepEqual(sleeps, []);
  let n = 0;
  const retries: number[] = [];
  const value = await withRetry({ initialPauseMs: 10, maxTotalPauseMs: 100 }, { ...hooks, onRetry: (_e, _p, r) => retries.push(r) },
    async () => { if (++n < 3) throw new Error('transient'); return 'ok'; });
  assert.equal(value, 'ok');
  assert.deepEqual(sleeps, [10, 20]);
  assert.deepEqual(retries, [1, 2]);
});

const http = (status: number, name = 'Unknown') => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
const net = (code: string) => Object.assign(new Error(`connect ${code}`), { code });

test('failure classes: what is retried (5xx, 408, 429, network, timeouts) and what is not', () => {
  const retried = [http(500), http(502), http(503, 'SlowDown'), http(408), http(429), http(400, 'RequestTimeout'),
    net('ECONNREFUSED'), net('ECONNRESET'), net('ETIMEDOUT'), net('ENOTFOUND'), net('EPIPE'),
    Object.assign(new Error('socket timed out'), { name: 'TimeoutError' }),
    Object.assign(new AggregateError([net('ECONNREFUSED')], 'all addresses failed'))];
  for (const error of retried) assert.ok(isRetryableFailure(describeFailure(error)), `${error.message} is retried`);
  const notRetried = [http(400, 'InvalidArgument'), http(401), http(403, 'AccessDenied'), http(404, 'NoSuchKey'), http(412, 'PreconditionFailed'),
    http(301, 'PermanentRedirect'), http(409), new Error('a bug'), Object.assign(new Error('aborted'), { name: 'AbortError' })];
  for (const error of notRetried) assert.ok(!isRetryableFailure(describeFailure(error)), `${error.message} is not retried`);
});

test('failure classes: by status first (HEAD errors have no body, hence no S3 code)', () => {
  assert.deepEqual(describeFailure(http(404, 'NotFound')).kind, 'not-found');
  assert.deepEqual(describeFailure(http(403, 'Unknown')), { kind: 'auth', status: 403, message: 'Unknown' });
  assert.equal(describeFailure(http(403, 'InvalidAccessKeyId')).code, 'InvalidAccessKeyId');
  assert.equal(describeFailure(http(307, 'TemporaryRedirect')).kind, 'redirect');
  assert.equal(describeFailure(net('ECONNREFUSED')).kind, 'network');
});
