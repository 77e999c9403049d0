// The AIMD limit on requests in flight (plugins/retry/adaptive-concurrency.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AdaptiveConcurrency, type ConcurrencySlot } from '../../plugins/retry/index.js';

const take = async (limiter: AdaptiveConcurrency, n: number): Promise<ConcurrencySlot[]> => Promise.all(Array.from({ length: n }, () => limiter.acquire()));

test('nothing is limited until the server throttles; then half the requests in flight, once per round of requests', { timeout: 30_000 }, async () => {
  const limiter = new AdaptiveConcurrency(16);
  const slots = await take(limiter, 24);
  assert.equal(limiter.inFlight, 24, 'more than the ceiling while nobody throttles (the callers bound themselves)');
  assert.equal(limiter.limit, Infinity);
  slots[0]!.release('throttled');
  // min(in flight 24, ceiling 16) / 2
  assert.equal(limiter.limit, 8);
  // The other answers to requests sent before the halving are the same congestion.
  for (const slot of slots.slice(1, 12)) slot.release('throttled');
  assert.equal(limiter.limit, 8);
  assert.equal(limiter.throttled, 12);
  for (const slot of slots.slice(12)) slot.release('success');
  // A request sent after the halving that is throttled again halves again.
  const [next] = await take(limiter, 1);
  next!.release('throttled');
  assert.equal(limiter.limit, 1, 'halved from the one request in flight, floor 1');
});

test('each window of `limit` successes adds one, up to the ceiling, which lifts the limit', { timeout: 30_000 }, async () => {
  const limiter = new AdaptiveConcurrency(4);
  const [first] = await take(limiter, 1);
  first!.release('throttled');
  assert.equal(limiter.limit, 1);
  const limits: number[] = [];
  for (let i = 0; i < 10; i++) {
    const [slot] = await take(limiter, 1);
    slot!.release('success');
    limits.push(limiter.limit);
  }
  assert.deepEqual(limits, [2, 2, 3, 3, 3, Infinity, Infinity, Infinity, Infinity, Infinity]);
  // Failures that are not throttling change nothing.
  const [failed] = await take(limiter, 1);
  failed!.release('failure');
  assert.equal(limiter.limit, Infinity);
});

test('requests over the limit wait in arrival order; an abort takes a waiter out of the queue', { timeout: 30_000 }, async () => {
  const limiter = new AdaptiveConcurrency(8);
  const held = await take(limiter, 4);
  held[0]!.release('throttled');
  assert.equal(limiter.limit, 2);
  const order: number[] = [];
  const controller = new AbortController();
  const waiting = [1, 2, 3].map((n) => Promise.resolve(limiter.acquire(n === 2 ? controller.signal : undefined)).then((slot) => { order.push(n); return slot; }));
  const aborted = assert.rejects(waiting[1]!, (error) => error === controller.signal.reason);
  controller.abort(new Error('unmount'));
  await aborted;
  assert.equal(limiter.waiting, 2);
  for (const slot of held.slice(1)) slot.release('success');
  const granted = await Promise.all([waiting[0]!, waiting[2]!]);
  assert.deepEqual(order, [1, 3]);
  assert.equal(limiter.inFlight, 2);
  for (const slot of granted) slot.release('success');
  assert.equal(limiter.inFlight, 0);
});
