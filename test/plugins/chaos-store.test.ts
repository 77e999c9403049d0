import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ObjectStore } from '../../src/engine/object-store.js';
import { isS3BackerError, type S3BackerError } from '../../src/errors/s3backer-error.js';
import { describeFailure } from '../../plugins/s3/s3-failure.js';
import { MemoryStore, type MemoryVolume } from '../../plugins/memory/index.js';
import {
  ChaosStore, chaosPlugin, resolveChaosOptions, chaosOptionsFromTestFlags, chaosFromTestFlags, type ChaosOptions, type ChaosOperation,
} from '../../plugins/chaos/index.js';
import { sampleLatency } from '../../plugins/chaos/latency-distribution.js';
import { seededRandom } from '../../plugins/chaos/seeded-random.js';

const T = { timeout: 20_000 };

/** A chaos store over a fresh memory store holding `keys` (each a 64-byte body), opened. */
async function chaosOver(options: ChaosOptions, keys: string[] = []): Promise<{ store: ChaosStore; volume: MemoryVolume }> {
  const volume: MemoryVolume = new Map();
  const inner = new MemoryStore(volume);
  for (const key of keys) await inner.put(key, Buffer.alloc(64, key.length));
  const store = new ChaosStore(inner, resolveChaosOptions(options));
  await store.open();
  return { store, volume };
}

/** A store that fails the test if anything reaches it. */
function tripwire(): ObjectStore & { calls: string[] } {
  const calls: string[] = [];
  const touch = (op: string) => () => { calls.push(op); throw new Error(`the inner store was used: ${op}`); };
  return {
    kind: 'tripwire', description: 'tripwire://', supports: { conditionalPut: false, metadata: true }, calls,
    open: touch('open'), get: touch('get'), head: touch('head'), put: touch('put'), delete: touch('delete'),
    list: touch('list') as unknown as ObjectStore['list'], close: async () => {},
  };
}

/** What one request came to: `ok`, or the injected error's code and message head. */
async function outcome(store: ObjectStore, op: ChaosOperation, key = 'k'): Promise<string> {
  try {
    switch (op) {
      case 'get': { const o = await store.get(key); return o === null ? 'null' : `ok ${o.body.length}${'etag' in o ? '' : ' no-etag'}`; }
      case 'head': { const o = await store.head(key); return o === null ? 'null' : `ok${'etag' in o ? '' : ' no-etag'}`; }
      case 'put': { const o = await store.put(key, Buffer.alloc(64, 1)); return `ok${'etag' in o ? '' : ' no-etag'}`; }
      case 'delete': await store.delete(key); return 'ok';
      case 'list': { const keys: string[] = []; for await (const k of store.list()) keys.push(k); return `ok ${keys.length}`; }
    }
  } catch (error) {
    const e = error as S3BackerError;
    return `${e.code}${e.retryable ? ' retryable' : ''}: ${e.message.split(';')[0]}`;
  }
}

const OPS: ChaosOperation[] = ['get', 'put', 'delete', 'head', 'list'];

test('an injected status is a typed error: 500/503/429 retryable S3B_BACKEND_IO naming the status, 403 S3B_BACKEND_AUTH not retryable; the store is not reached', T, async () => {
  const cases = [[500, 'InternalError'], [503, 'SlowDown'], [429, 'TooManyRequests'], [403, 'AccessDenied']] as const;
  for (const [status, name] of cases) {
    const inner = tripwire();
    const store = new ChaosStore(inner, resolveChaosOptions({ seed: 1, errorRate: { [status]: 1 } }));
    for (const op of OPS) {
      const error = await (op === 'list' ? (async () => { for await (const _ of store.list()) { /* none */ } })() : (store as unknown as Record<string, (k: string, b?: Buffer) => Promise<unknown>>)[op]!('k', Buffer.alloc(1)))
        .then(() => assert.fail(`${op} should fail`), (e: unknown) => e as S3BackerError);
      assert.ok(isS3BackerError(error, status === 403 ? 'S3B_BACKEND_AUTH' : 'S3B_BACKEND_IO'), `${op} ${status}: ${String(error)}`);
      assert.equal(error.retryable, status !== 403, `${op} ${status}: retryable`);
      assert.match(error.message, new RegExp(`^chaos: injected ${status} ${name};`));
      // The cause reads as the real failure to whatever classifies store errors.
      const failure = describeFailure(error.cause);
      assert.equal(failure.status, status);
      assert.equal(failure.kind, status === 403 ? 'auth' : status === 429 ? 'throttle' : 'server');
    }
    assert.deepEqual(inner.calls, [], 'a request that failed never reached the store');
    assert.equal(store.counters.injected[String(status) as '500'], OPS.length);
  }
});

test('the same seed and the same requests give the same faults; another seed gives others', T, async () => {
  const options = (seed: number): ChaosOptions => ({
    seed, errorRate: { get: { 500: 0.1, 503: 0.1 }, put: { 429: 0.1, 403: 0.05 }, head: 0.1, delete: 0.2, list: 0.2 },
    truncateRate: 0.2, missingEtagRate: 0.15,
  });
  const run = async (seed: number) => {
    const { store } = await chaosOver(options(seed), ['k']);
    const results: string[] = [];
    for (let i = 0; i < 300; i++) {
      const op = OPS[i % OPS.length]!;
      // Delete and put keep the key present so gets have a body to cut.
      results.push(`${op} ${await outcome(store, op, op === 'delete' ? 'other' : 'k')}`);
    }
    await store.close();
    return results;
  };
  const first = await run(42);
  assert.deepEqual(await run(42), first);
  assert.notDeepEqual(await run(43), first);
  assert.ok(first.some((line) => /SlowDown/.test(line)) && first.some((line) => /^get ok \d+$/.test(line)), 'both faults and clean answers happened');
  assert.ok(first.some((line) => /^get ok (\d+)/.test(line) && Number(/^get ok (\d+)/.exec(line)![1]) < 64), 'some bodies were cut short');
});

test('measured fault rates match the configured ones (seeded, 20000 requests per operation, within 4 standard deviations)', T, async (t) => {
  const configured = {
    get: { 500: 0.05, 503: 0.03, 429: 0.01, 403: 0.01 }, put: { 503: 0.1 }, delete: 0.02, head: { 429: 0.2 }, list: 0,
  } as const;
  const { store } = await chaosOver({ seed: 20240601, errorRate: configured, truncateRate: 0.07, missingEtagRate: { head: 0.03 } }, ['k']);
  const N = 20_000;
  const seen: Record<string, number> = {};
  for (const op of OPS) {
    for (let i = 0; i < N; i++) {
      const result = await outcome(store, op, op === 'delete' ? 'other' : 'k');
      const key = /injected (\d+)/.exec(result)?.[1] ?? (/^ok (\d+)$/.test(result) && op === 'get' && Number(result.slice(3)) < 64 ? 'truncated' : /no-etag/.test(result) ? 'no_etag' : 'ok');
      seen[`${op} ${key}`] = (seen[`${op} ${key}`] ?? 0) + 1;
    }
  }
  await store.close();
  const check = (label: string, expected: number) => {
    const measured = (seen[label] ?? 0) / N;
    const sigma = Math.sqrt((expected * (1 - expected)) / N);
    t.diagnostic(`${label}: configured ${expected}, measured ${measured.toFixed(4)}`);
    assert.ok(Math.abs(measured - expected) <= 4 * sigma + 1e-9, `${label}: measured ${measured} vs configured ${expected}`);
  };
  for (const [status, rate] of Object.entries(configured.get)) check(`get ${status}`, rate);
  check('put 503', 0.1);
  check('delete 500', 0.02);
  check('head 429', 0.2);
  check('list 500', 0);
  // Truncation only happens to GETs that were not failed: 7% of the 90% that got through.
  check('get truncated', 0.07 * 0.9);
  check('head no_etag', 0.03 * 0.8);
  assert.equal(store.counters.requests, 5 * N);
});

test('latency: fixed, uniform and exponential distributions sample as configured, and a request really waits', T, async (t) => {
  const random = seededRandom(7);
  const draw = (n: number, f: (u: number) => number) => Array.from({ length: n }, () => f(random()));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const uniform = draw(20_000, (u) => sampleLatency({ kind: 'uniform', min: 0, max: 200 }, u));
  assert.ok(uniform.every((ms) => ms >= 0 && ms < 200));
  assert.ok(Math.abs(mean(uniform) - 100) < 2, `uniform mean ${mean(uniform)}`);
  const exponential = draw(20_000, (u) => sampleLatency({ kind: 'exponential', mean: 30, max: Infinity }, u));
  assert.ok(Math.abs(mean(exponential) - 30) < 1.5, `exponential mean ${mean(exponential)}`);
  // An exponential's median is mean * ln 2.
  const median = [...exponential].sort((a, b) => a - b)[10_000]!;
  assert.ok(Math.abs(median - 30 * Math.LN2) < 1.5, `exponential median ${median}`);
  const capped = draw(5_000, (u) => sampleLatency({ kind: 'exponential', mean: 30, max: 50 }, u));
  assert.ok(capped.every((ms) => ms <= 50) && capped.some((ms) => ms === 50));
  t.diagnostic(`uniform 0-200 mean ${mean(uniform).toFixed(1)} ms; exponential mean ${mean(exponential).toFixed(1)} ms (configured 30), median ${median.toFixed(1)}`);

  const { store } = await chaosOver({ seed: 1, latency: { put: 80, get: { min: 10, max: 20 } } }, ['k']);
  try {
    let started = performance.now();
    await store.put('p', Buffer.alloc(1));
    assert.ok(performance.now() - started >= 79, 'a put waits its fixed 80 ms');
    started = performance.now();
    await store.head('k');
    assert.ok(performance.now() - started < 40, 'head has no latency configured');
    started = performance.now();
    await store.get('k');
    const waited = performance.now() - started;
    assert.ok(waited >= 9 && waited < 200, `a get waits 10-20 ms, waited ${waited}`);
    assert.equal(store.counters.injected.delay, 2);
  } finally {
    await store.close();
  }
});

test('a hung request is held for hang.ms, never reaches the store, then fails as a retryable timeout', T, async () => {
  const inner = tripwire();
  const store = new ChaosStore(inner, resolveChaosOptions({ seed: 3, hang: { rate: { put: 1 }, ms: 150 } }));
  try {
    const started = performance.now();
    await assert.rejects(store.put('k', Buffer.alloc(1)), (error: unknown) => {
      const e = error as S3BackerError;
      assert.ok(isS3BackerError(e, 'S3B_BACKEND_UNREACHABLE') && e.retryable, String(e));
      assert.match(e.message, /^chaos: injected hang: no answer within 150 ms/);
      assert.equal(describeFailure(e.cause).kind, 'timeout');
      return true;
    });
    assert.ok(performance.now() - started >= 149, 'held for the whole 150 ms');
    assert.deepEqual(inner.calls, []);
    assert.equal(store.counters.injected.timeout, 1);
  } finally {
    await store.close();
  }
});

test('a request hung without a time limit is held until the store is closed, then fails as a timeout at once', T, async () => {
  const { store } = await chaosOver({ seed: 3, hang: { rate: { get: 1 } } }, ['k']);
  const held = store.get('k').then(() => 'answered', (error: S3BackerError) => error);
  await sleep(100);
  assert.equal(await Promise.race([held, sleep(10).then(() => 'still held')]), 'still held');
  const closing = performance.now();
  await store.close();
  const error = await held;
  assert.ok(performance.now() - closing < 100, 'close ends the hang at once');
  assert.ok(isS3BackerError(error, 'S3B_BACKEND_UNREACHABLE') && (error as S3BackerError).retryable);
  assert.match((error as Error).message, /no answer after \d+ ms, when the store was closed/);
  await assert.rejects(store.get('k'), (e: unknown) => isS3BackerError(e, 'S3B_STORE_CLOSED'), 'after close: closed, not hung');
});

test('abort(reason) ends hung and delayed requests with the reason, fails every later one, and reaches the inner store', T, async () => {
  const volume: MemoryVolume = new Map();
  const aborted: Error[] = [];
  const inner = Object.assign(new MemoryStore(volume), { abort: (reason: Error) => { aborted.push(reason); } });
  const store = new ChaosStore(inner, resolveChaosOptions({ seed: 4, hang: { rate: { put: 1 } }, latency: { get: 10_000 } }));
  try {
    const hung = store.put('k', Buffer.alloc(1)).then(() => 'answered', (error: Error) => error);
    const slow = store.get('k').then(() => 'answered', (error: Error) => error);
    await sleep(50);
    const reason = new Error('abandoned at unmount');
    const started = performance.now();
    store.abort(reason);
    assert.equal(await hung, reason);
    assert.equal(await slow, reason);
    assert.ok(performance.now() - started < 100, 'at once');
    await assert.rejects(store.head('k'), (error: unknown) => error === reason, 'a later request fails with the reason too');
    assert.deepEqual(aborted, [reason], 'the inner store is told');
  } finally {
    await store.close();
  }
});

test('get options (ifMatch) and deleteMany pass through to the inner store; deleteMany is one request to the faults', T, async () => {
  const volume: MemoryVolume = new Map();
  const memory = new MemoryStore(volume);
  const batches: string[][] = [];
  const inner = Object.assign(memory, {
    deleteMany: async (keys: string[]) => { batches.push(keys); for (const key of keys) await memory.delete(key); return { failed: [] }; },
  });
  const store = new ChaosStore(inner, resolveChaosOptions({ seed: 6 }));
  const { etag } = await store.put('a', Buffer.alloc(4, 1));
  await store.put('b', Buffer.alloc(4, 2));
  assert.equal((await store.get('a', { ifMatch: etag }))?.etag, etag);
  await assert.rejects(store.get('a', { ifMatch: '"other"' }), (error: unknown) => (error as Error).name === 'PreconditionFailedError');
  assert.deepEqual(await store.deleteMany!(['a', 'b']), { failed: [] });
  assert.deepEqual(batches, [['a', 'b']]);
  assert.equal(volume.size, 0);
  await store.close();

  const failing = new ChaosStore(Object.assign(new MemoryStore(), { deleteMany: async () => assert.fail('not reached') }), resolveChaosOptions({ seed: 6, errorRate: { delete: { 503: 1 } } }));
  await assert.rejects(failing.deleteMany!(['a', 'b']), (error: unknown) => isS3BackerError(error, 'S3B_BACKEND_IO') && /503 SlowDown/.test((error as Error).message));
  assert.equal(failing.counters.requests, 1);
  await failing.close();
  assert.equal(new ChaosStore(new MemoryStore(), resolveChaosOptions({ seed: 6 })).deleteMany, undefined, 'offered only when the inner store has it');
});

test('a configured outage window: everything works before it, fails as a refused connection during it, and recovers after', T, async () => {
  const { store } = await chaosOver({ seed: 5, outages: [{ start: 300, duration: 600 }] }, ['k']);
  try {
    const before: string[] = [];
    for (const op of OPS) before.push(await outcome(store, op));
    assert.deepEqual(before, ['ok 64', 'ok', 'ok', 'null', 'ok 0'], 'get, put, delete, head (deleted), list');
    await sleep(450);
    for (const op of OPS) {
      const result = await outcome(store, op);
      assert.match(result, /^S3B_BACKEND_UNREACHABLE retryable: chaos: injected outage: connection refused \(the outage ends in \d+ ms\)$/, op);
    }
    await assert.rejects(store.get('k'), (error: unknown) => describeFailure((error as Error).cause).kind === 'network');
    await sleep(600);
    assert.equal(await outcome(store, 'put'), 'ok');
    assert.equal(await outcome(store, 'get'), 'ok 64');
    assert.equal(store.counters.injected.outage, OPS.length + 1);
  } finally {
    await store.close();
  }
});

test('an outage triggered from a test (plugin.outage(ms)) fails every request of its stores until it ends', T, async () => {
  const plugin = chaosPlugin({ seed: 9 });
  const { store } = await chaosOver({ seed: 9 }, ['k']);
  // The plugin's stores share its outage: build one the way the plugin's wrapStore tap does.
  let wrapped: ObjectStore | undefined;
  plugin.apply({
    hooks: { wrapStore: { tap: (_o: unknown, fn: (inner: ObjectStore) => ObjectStore) => { wrapped = fn(store); } } },
    logger: () => ({ error() {}, warn() {}, info() {}, debug() {} }), stats: () => {},
  } as never);
  try {
    assert.equal(await outcome(wrapped!, 'get'), 'ok 64');
    plugin.outage(250);
    assert.match(await outcome(wrapped!, 'get'), /injected outage/);
    assert.match(await outcome(wrapped!, 'put'), /injected outage/);
    await sleep(300);
    assert.equal(await outcome(wrapped!, 'get'), 'ok 64');
    assert.equal(plugin.counters.injected.outage, 2);
    assert.throws(() => plugin.outage(-1), (error: unknown) => isS3BackerError(error, 'S3B_CONFIG_INVALID'));
  } finally {
    await wrapped?.close();
  }
});

test('truncated bodies are cut at least one byte short, keeping the announced size; missing ETags drop the field', T, async () => {
  const { store } = await chaosOver({ seed: 11, truncateRate: 1, missingEtagRate: { get: 1, put: 1 } }, ['kk']);
  try {
    for (let i = 0; i < 50; i++) {
      const object = (await store.get('kk'))!;
      assert.ok(object.body.length < 64, 'shorter than stored');
      assert.equal(object.size, 64, 'the size still says 64');
      assert.equal('etag' in object, false);
    }
    assert.equal('etag' in (await store.put('x', Buffer.alloc(3))), false);
    assert.equal('etag' in (await store.head('kk'))!, true, 'head was not configured');
    assert.equal(store.counters.injected.truncated, 50);
    assert.equal(store.counters.injected.no_etag, 51);
  } finally {
    await store.close();
  }
});

test('discard mode (--test-discard): writes are dropped, reads find nothing, and the inner store is never used', T, async () => {
  const inner = tripwire();
  const store = new ChaosStore(inner, resolveChaosOptions({ seed: 1, discard: true }));
  await store.open();
  const { etag } = await store.put('k', Buffer.alloc(10, 1), { ifNoneMatch: '*' });
  assert.ok(etag.length > 0);
  // Always empty, so a create-only put always succeeds, again and again.
  await store.put('k', Buffer.alloc(10, 2), { ifNoneMatch: '*' });
  assert.equal(await store.get('k'), null);
  assert.equal(await store.head('k'), null);
  await store.delete('k');
  const keys: string[] = [];
  for await (const key of store.list()) keys.push(key);
  assert.deepEqual(keys, []);
  assert.equal(store.supports.conditionalPut, true);
  assert.deepEqual(inner.calls, []);
  assert.equal(store.counters.discarded, 6);
  await store.close();
  await assert.rejects(store.get('k'), (error: unknown) => isS3BackerError(error, 'S3B_STORE_CLOSED'));
});

test('options are validated in the factory: a bad value is S3B_CONFIG_INVALID naming the key, a misspelt key gets a suggestion', () => {
  const invalid: Array<[unknown, RegExp]> = [
    [{ errorRate: 2 }, /chaos option errorRate must be a number from 0 to 1, not 2/],
    [{ errorRate: { put: { 503: 0.7, 500: 0.7 } } }, /errorRate\.put must be shares that add up to at most 1/],
    [{ errorRate: { put: 0.1, 503: 0.1 } }, /errorRate must be either one value for every operation or a record by operation/],
    [{ errorRate: { get: -0.1 } }, /errorRate\.get must be a number from 0 to 1, not -0\.1/],
    [{ latency: { min: 50, max: 10 } }, /latency\.max must be at least min \(50\), not 10/],
    [{ latency: { get: 'slow' } }, /latency\.get must be a number of ms, \{ min, max \}/],
    [{ latency: { mean: -1 } }, /latency\.mean must be a number of ms, at least 0, not -1/],
    [{ hang: { ms: 100 } }, /hang\.rate must be a number from 0 to 1/],
    [{ hang: { rate: 0.1, ms: 0 } }, /hang\.ms must be a number of ms above 0/],
    [{ truncateRate: 1.5 }, /truncateRate must be a number from 0 to 1/],
    [{ missingEtagRate: { delete: 0.1 } }, /missingEtagRate\.delete must be left out: only get, head, put can have it/],
    [{ outages: [{ start: 10, duration: 0 }] }, /outages\[0\]\.duration must be a number of ms above 0/],
    [{ outages: { start: 1, duration: 1 } }, /outages must be a list of \{ start, duration \}/],
    [{ seed: 1.5 }, /seed must be an integer from 0 to 4294967295, not 1\.5/],
    [{ discard: 'yes' }, /discard must be true or false, not "yes"/],
    [{ name: '' }, /name must be a name of letters/],
  ];
  for (const [options, message] of invalid) {
    assert.throws(() => chaosPlugin(options as ChaosOptions), (error: unknown) => isS3BackerError(error, 'S3B_CONFIG_INVALID') && message.test((error as Error).message) && /fix the value$/.test((error as Error).message),
      `${JSON.stringify(options)} should fail with ${message}`);
  }
  assert.throws(() => chaosPlugin({ erorRate: 0.1 } as ChaosOptions), (error: unknown) =>
    isS3BackerError(error, 'S3B_CONFIG_UNKNOWN_OPTION') && /chaos option erorRate is not known; did you mean errorRate\?/.test((error as Error).message));
  assert.throws(() => chaosPlugin({ errorRate: { 502: 0.1 } } as unknown as ChaosOptions), (error: unknown) =>
    isS3BackerError(error, 'S3B_CONFIG_UNKNOWN_OPTION') && /errorRate\.502 is not known; did you mean errorRate\.500\?/.test((error as Error).message));
  assert.throws(() => chaosPlugin({ hang: { rate: 1, msec: 10 } } as unknown as ChaosOptions), (error: unknown) =>
    isS3BackerError(error, 'S3B_CONFIG_UNKNOWN_OPTION') && /hang\.msec is not known/.test((error as Error).message));
  // JSON config files spell statuses as strings.
  assert.deepEqual(resolveChaosOptions({ errorRate: { '503': 0.2 } }).errors.put, [[503, 0.2]]);
  assert.equal(resolveChaosOptions({}).randomSeed, true);
  assert.equal(resolveChaosOptions({ seed: 0 }).randomSeed, false);
});

test('the C tool\'s test flags map onto chaos options; none set gives no chaos plugin', () => {
  const flags = (testDelays: boolean, testErrors: boolean, testDiscard: boolean) => ({ testDelays, testErrors, testDiscard });
  assert.equal(chaosOptionsFromTestFlags(flags(false, false, false)), undefined);
  assert.deepEqual(chaosFromTestFlags(flags(false, false, false)), []);
  const delays = resolveChaosOptions(chaosOptionsFromTestFlags(flags(true, false, false)));
  assert.deepEqual(delays.latency.get, { kind: 'uniform', min: 0, max: 200 });
  assert.deepEqual(delays.errors.get, []);
  const errors = resolveChaosOptions(chaosOptionsFromTestFlags(flags(false, true, false)));
  for (const op of OPS) assert.deepEqual(errors.errors[op], [[500, 0.005], [503, 0.005]], `${op}: 1% retryable errors`);
  assert.equal(errors.discard, false);
  const all = resolveChaosOptions(chaosOptionsFromTestFlags(flags(true, true, true)));
  assert.equal(all.discard, true);
  const [plugin] = chaosFromTestFlags(flags(false, false, true));
  assert.equal(plugin?.name, 'chaos');
});
