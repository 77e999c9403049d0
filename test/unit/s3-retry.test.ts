// What the s3 store tells the retry layer (plugins/retry): which failures are worth sending again,
// and how each failure counts in the C tool's http_* / curl_* stats.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { retrySchedule } from '../../plugins/retry/index.js';
import { describeFailure, isRetryableFailure } from '../../plugins/s3/s3-failure.js';
import { S3Stats } from '../../plugins/s3/s3-stats.js';

const http = (status: number, name = 'Unknown') => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
const net = (code: string) => Object.assign(new Error(`connect ${code}`), { code });

test('retry schedule: doubling pauses, the last trimmed so the sum is exactly the budget (as in the C tool\'s http_io_perform_io)', { timeout: 30_000 }, () => {
  assert.deepEqual(retrySchedule({ initialPauseMs: 10, maxTotalPauseMs: 100 }), [10, 20, 40, 30]);
  // The C defaults: 200 ms doubling within 30 s of pauses.
  const defaults = retrySchedule({ initialPauseMs: 200, maxTotalPauseMs: 30_000 });
  assert.deepEqual(defaults, [200, 400, 800, 1600, 3200, 6400, 12800, 4600]);
  assert.equal(defaults.reduce((a, b) => a + b, 0), 30_000);
  assert.deepEqual(retrySchedule({ initialPauseMs: 10, maxTotalPauseMs: 70 }), [10, 20, 40]);
  assert.deepEqual(retrySchedule({ initialPauseMs: 500, maxTotalPauseMs: 100 }), [100]);
  assert.deepEqual(retrySchedule({ initialPauseMs: 200, maxTotalPauseMs: 0 }), [], 'no budget: no retries');
  assert.deepEqual(retrySchedule({ initialPauseMs: 0, maxTotalPauseMs: 7 }), [1, 2, 4], 'a zero first pause still ends');
});

test('stats: failures without an answer count in the C tool\'s curl_* lines, statuses in http_*', { timeout: 30_000 }, () => {
  const stats = new S3Stats();
  const failures = [
    net('ECONNREFUSED'), net('EHOSTUNREACH'), net('ENOTFOUND'), net('EAI_AGAIN'), net('ECONNRESET'), net('EPIPE'),
    Object.assign(new Error('no answer within 30000 ms (--timeout)'), { name: 'TimeoutError', code: 'ETIMEDOUT' }),
    Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code: 'ECONNRESET' }),
    http(503, 'SlowDown'), http(500), http(429), http(403, 'AccessDenied'),
  ];
  for (const error of failures) stats.recordFailure(describeFailure(error));
  const lines = Object.fromEntries(stats.lines());
  assert.equal(lines.curl_connect_failed, '2');
  assert.equal(lines.curl_host_unknown, '2');
  assert.equal(lines.curl_timeouts, '1');
  assert.equal(lines.curl_other_error, '3', 'resets and broken pipes, however the SDK names them');
  assert.equal(lines.http_5xx_error, '2');
  assert.equal(lines.http_4xx_error, '1');
  assert.equal(lines.http_forbidden, '1');
  assert.equal(lines.http_other_error, '0');
  stats.reset();
  assert.ok(stats.lines().every(([, value]) => value === '0' || value === '0.000 sec'));
});


test('failure classes: what is retried (5xx, 408, 429, network, timeouts) and what is not', { timeout: 30_000 }, () => {
  const retried = [http(500), http(502), http(503, 'SlowDown'), http(408), http(429), http(400, 'RequestTimeout'),
    net('ECONNREFUSED'), net('ECONNRESET'), net('ETIMEDOUT'), net('ENOTFOUND'), net('EPIPE'),
    Object.assign(new Error('socket timed out'), { name: 'TimeoutError' }),
    Object.assign(new AggregateError([net('ECONNREFUSED')], 'all addresses failed'))];
  for (const error of retried) assert.ok(isRetryableFailure(describeFailure(error)), `${error.message} is retried`);
  const notRetried = [http(400, 'InvalidArgument'), http(401), http(403, 'AccessDenied'), http(404, 'NoSuchKey'), http(412, 'PreconditionFailed'),
    http(301, 'PermanentRedirect'), http(409), new Error('a bug'), Object.assign(new Error('aborted'), { name: 'AbortError' })];
  for (const error of notRetried) assert.ok(!isRetryableFailure(describeFailure(error)), `${error.message} is not retried`);
});

test('failure classes: by status first (HEAD errors have no body, hence no S3 code)', { timeout: 30_000 }, () => {
  assert.deepEqual(describeFailure(http(404, 'NotFound')).kind, 'not-found');
  assert.deepEqual(describeFailure(http(403, 'Unknown')), { kind: 'auth', status: 403, message: 'Unknown' });
  assert.equal(describeFailure(http(403, 'InvalidAccessKeyId')).code, 'InvalidAccessKeyId');
  assert.equal(describeFailure(http(307, 'TemporaryRedirect')).kind, 'redirect');
  assert.equal(describeFailure(net('ECONNREFUSED')).kind, 'network');
});
