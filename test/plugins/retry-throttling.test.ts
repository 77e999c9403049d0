// Slowing down on 503 SlowDown: a scripted S3 endpoint on 127.0.0.1 that takes at most CAPACITY
// requests at once and answers the rest 503 SlowDown, as S3 does for a prefix sent too much. The
// s3 store under the retry layer with its adaptive limit: after the first refusals the client
// keeps about CAPACITY requests in flight instead of retrying everything at once.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { S3Store } from '../../plugins/s3/index.js';
import { RetryStore, AdaptiveConcurrency, RetryStats } from '../../plugins/retry/index.js';

const CAPACITY = 4;
const WORKERS = 32;
const WRITES_PER_WORKER = 10;

interface Arrival { at: number; inFlight: number; refused: boolean }

/** Answers a PUT after 20 ms, or at once with 503 SlowDown when more than CAPACITY are in flight. */
async function throttlingServer(t: { after(fn: () => Promise<void>): void }) {
  const arrivals: Arrival[] = [];
  let inFlight = 0;
  const http = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      inFlight++;
      const refused = inFlight > CAPACITY;
      arrivals.push({ at: performance.now(), inFlight, refused });
      const answer = () => {
        inFlight--;
        if (refused) {
          res.writeHead(503, { 'content-type': 'application/xml' });
          res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>');
        } else {
          res.writeHead(200, { etag: '"0123456789abcdef0123456789abcdef"', 'content-length': '0' });
          res.end();
        }
      };
      setTimeout(answer, refused ? 2 : 20);
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => { http.closeAllConnections(); http.close(() => resolve()); }));
  return { endpoint: `http://127.0.0.1:${(http.address() as AddressInfo).port}/`, arrivals };
}

/** WORKERS writers (the block cache's threads) each storing WRITES_PER_WORKER blocks one after another. */
async function run(t: { after(fn: () => Promise<void>): void }, concurrency: AdaptiveConcurrency | undefined) {
  const server = await throttlingServer(t);
  const s3 = new S3Store({
    endpoint: server.endpoint, bucket: 'bkt', region: 'us-east-1', forcePathStyle: true,
    credentials: { kind: 'static', accessKeyId: 'AK', secretAccessKey: 'SK', source: 'test' }, timeoutMs: 5000,
  });
  const stats = new RetryStats('http', concurrency);
  const store = new RetryStore(s3, { policy: { initialPauseMs: 10, maxTotalPauseMs: 20_000 }, attemptTimeoutMs: 5000, stats, ...(concurrency ? { concurrency } : {}) });
  t.after(() => store.close());
  const started = performance.now();
  await Promise.all(Array.from({ length: WORKERS }, async (_, worker) => {
    for (let i = 0; i < WRITES_PER_WORKER; i++) await store.put(`vol/${(worker * WRITES_PER_WORKER + i).toString(16).padStart(8, '0')}`, Buffer.alloc(1024, i));
  }));
  const elapsed = performance.now() - started;
  const { arrivals } = server;
  const firstRefusal = arrivals.findIndex((a) => a.refused);
  // After the client had a chance to react: the second half of all requests.
  const late = arrivals.slice(Math.floor(arrivals.length / 2));
  return {
    elapsed,
    requests: arrivals.length,
    refused: arrivals.filter((a) => a.refused).length,
    firstRefusal,
    lateMaxInFlight: Math.max(...late.map((a) => a.inFlight)),
    lateMeanInFlight: late.reduce((sum, a) => sum + a.inFlight, 0) / late.length,
    lateRefused: late.filter((a) => a.refused).length,
    stats: Object.fromEntries(stats.lines()),
  };
}

test('503 SlowDown lowers the requests in flight to what the server takes; every write still succeeds', { timeout: 60_000 }, async (t) => {
  const concurrency = new AdaptiveConcurrency(WORKERS);
  const adaptive = await run(t, concurrency);
  const hammering = await run(t, undefined);
  const line = (name: string, r: typeof adaptive) =>
    `${name}: ${r.requests} requests for ${WORKERS * WRITES_PER_WORKER} writes, ${r.refused} refused (${r.lateRefused} in the second half), ` +
    `in flight at the server in the second half: mean ${r.lateMeanInFlight.toFixed(1)}, max ${r.lateMaxInFlight}; ${(r.elapsed / 1000).toFixed(2)} s`;
  t.diagnostic(line('adaptive limit', adaptive));
  t.diagnostic(line('retries only  ', hammering));
  t.diagnostic(`adaptive limit at the end: ${adaptive.stats.store_in_flight_limit} (0 = lifted), throttling answers ${adaptive.stats.store_throttled_answers}`);

  assert.ok(adaptive.firstRefusal >= 0, 'the server did throttle');
  assert.equal(Number(adaptive.stats.store_throttled_answers), adaptive.refused, 'every refusal reached the limiter');
  // Slowed down: about CAPACITY in flight once it has reacted, with few refusals.
  assert.ok(adaptive.lateMaxInFlight <= 2 * CAPACITY, `second half max in flight ${adaptive.lateMaxInFlight}`);
  assert.ok(adaptive.lateRefused <= adaptive.requests / 10, `second half refusals ${adaptive.lateRefused}`);
  // Without the limit, the same writers keep sending more than the server takes: many more refusals.
  assert.ok(adaptive.refused < hammering.refused / 2, `refusals: ${adaptive.refused} vs ${hammering.refused} without the limit`);
  assert.ok(adaptive.lateRefused < hammering.lateRefused / 2, `second half refusals: ${adaptive.lateRefused} vs ${hammering.lateRefused} without the limit`);
});
