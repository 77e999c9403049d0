// The retry layer (plugins/retry/retry-store.ts) around any store: what it retries, how long a
// request may take, abort and close, listings that resume, and injected faults below it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RetryStore, RetryStats, retryPlugin, type RetryStoreOptions } from '../../plugins/retry/index.js';
import { MemoryStore, type MemoryVolume } from '../../plugins/memory/memory-store.js';
import { memoryPlugin } from '../../plugins/memory/index.js';
import type { ObjectStore } from '../../src/engine/object-store.js';
import { Engine } from '../../src/engine/engine.js';
import { Stage } from '../../src/engine/stages.js';
import type { S3BackerPlugin } from '../../src/engine/plugin.js';
import { S3BackerError, isS3BackerError } from '../../src/errors/s3backer-error.js';
import { runBackendConformance } from '../conformance/index.js';
import { testConfig } from '../helpers/test-config.js';

type Op = 'open' | 'get' | 'head' | 'put' | 'delete' | 'list';
/** What a request does instead of reaching the store: fail with an error, or never answer. */
type Fault = Error | 'hang' | undefined;

const slowDown = () => new S3BackerError('S3B_BACKEND_IO', 'HTTP 503 SlowDown', {
  retryable: true, cause: Object.assign(new Error('SlowDown'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } }),
});
const refused = () => new S3BackerError('S3B_BACKEND_UNREACHABLE', 'connect ECONNREFUSED', { retryable: true });

/**
 * A memory store whose requests fail or hang as `fault` says (by operation, key and how many
 * requests for that key came before): the shape of a real store's failures, without a network.
 */
class FaultyStore implements ObjectStore {
  readonly kind = 'faulty';
  readonly description = 'faulty://';
  readonly supports = { conditionalPut: true, metadata: true };
  readonly calls: string[] = [];
  aborted: Error | undefined;
  private readonly inner: MemoryStore;
  private readonly seen = new Map<string, number>();
  private readonly hung = new Set<() => void>();

  constructor(readonly fault: (op: Op, key: string, before: number) => Fault, volume: MemoryVolume = new Map()) {
    this.inner = new MemoryStore(volume);
  }

  private async gate(op: Op, key: string): Promise<void> {
    const id = `${op} ${key}`;
    const before = this.seen.get(id) ?? 0;
    this.seen.set(id, before + 1);
    this.calls.push(id);
    const fault = this.fault(op, key, before);
    if (fault === 'hang') await new Promise<void>((resolve) => this.hung.add(resolve));
    else if (fault) throw fault;
  }

  async open() { await this.gate('open', ''); return this.inner.open(); }
  async get(key: string) { await this.gate('get', key); return this.inner.get(key); }
  async head(key: string) { await this.gate('head', key); return this.inner.head(key); }
  async put(key: string, body: Buffer, options?: Parameters<ObjectStore['put']>[2]) { await this.gate('put', key); return this.inner.put(key, body, options); }
  async delete(key: string) { await this.gate('delete', key); return this.inner.delete(key); }
  async *list(options?: Parameters<ObjectStore['list']>[0]) {
    let count = 0;
    for await (const key of this.inner.list(options)) {
      await this.gate('list', `${options?.startAfter ?? ''}#${count++}`);
      yield key;
    }
  }
  async close() {
    for (const wake of this.hung) wake();
    await this.inner.close();
  }
  abort(reason: Error) { this.aborted = reason; }
}

/** A retry layer that records its pauses instead of sleeping, with the C schedule (no jitter). */
function retrying(inner: ObjectStore, options: Partial<RetryStoreOptions> = {}): { store: RetryStore; sleeps: number[]; stats: RetryStats } {
  const sleeps: number[] = [];
  const stats = new RetryStats('store');
  const store = new RetryStore(inner, {
    policy: { initialPauseMs: 10, maxTotalPauseMs: 100 }, attemptTimeoutMs: 5_000, stats, random: () => 1,
    sleep: async (ms) => { sleeps.push(ms); }, ...options,
  });
  return { store, sleeps, stats };
}

// Every request fails once (retryable) before it reaches the store: the contract holds through retries.
runBackendConformance({
  test,
  name: 'retry layer over a store that fails each request once',
  factory: async () => retrying(new FaultyStore((op, _key, before) => (before === 0 && op !== 'open' ? slowDown() : undefined))).store,
});

test('retries failures marked retryable, with the C schedule, then gives up with the last error, no longer retryable', { timeout: 10_000 }, async () => {
  const always = new FaultyStore((op) => (op === 'put' ? refused() : undefined));
  const { store, sleeps, stats } = retrying(always);
  await assert.rejects(store.put('0000002a', Buffer.from('x')), (error) =>
    isS3BackerError(error, 'S3B_BACKEND_UNREACHABLE') && !error.retryable
    && /^gave up after 5 attempts in [\d.]+ s \(0\.1 s of pauses; --timeout=5 s per attempt, --maxRetryPause=100 ms of pauses\): connect ECONNREFUSED$/.test(error.message)
    && (error.cause as S3BackerError).retryable);
  assert.deepEqual(sleeps, [10, 20, 40, 30]);
  assert.deepEqual(Object.fromEntries(stats.lines()), { store_num_retries: '4', store_total_retry_delay: '0.100 sec' });

  const twice = new FaultyStore((_op, _key, before) => (before < 2 ? slowDown() : undefined));
  const second = retrying(twice);
  assert.ok((await second.store.put('k', Buffer.from('y'))).etag);
  assert.deepEqual(second.sleeps, [10, 20]);
  assert.deepEqual(twice.calls, ['put k', 'put k', 'put k']);
});

test('what is not marked retryable is thrown at once, as it is: 403, a foreign error, a precondition', { timeout: 10_000 }, async () => {
  const denied = new S3BackerError('S3B_BACKEND_AUTH', 'HTTP 403 AccessDenied');
  const foreign = new Error('a bug');
  const store = new FaultyStore((_op, key) => (key === 'denied' ? denied : key === 'bug' ? foreign : undefined));
  const { store: retried, sleeps } = retrying(store);
  await assert.rejects(retried.get('denied'), (error) => error === denied);
  await assert.rejects(retried.get('bug'), (error) => error === foreign);
  await retried.put('exists', Buffer.from('1'));
  await assert.rejects(retried.put('exists', Buffer.from('2'), { ifNoneMatch: '*' }), (error) => (error as Error).name === 'PreconditionFailedError');
  assert.deepEqual(sleeps, []);
});

test('a store that never answers: each attempt ends at --timeout, the request at --timeout + --maxRetryPause', { timeout: 10_000 }, async () => {
  const hung = new FaultyStore((op) => (op === 'put' ? 'hang' : undefined));
  // Real pauses: the bound is measured.
  const { store } = retrying(hung, { attemptTimeoutMs: 300, policy: { initialPauseMs: 50, maxTotalPauseMs: 400 }, sleep: undefined as never });
  const started = performance.now();
  await assert.rejects(store.put('0000002a', Buffer.from('x')), (error) =>
    isS3BackerError(error, 'S3B_BACKEND_UNREACHABLE') && !error.retryable && /PUT 0000002a at faulty:\/\/: no answer within/.test(error.message));
  const elapsed = performance.now() - started;
  // Attempts of 300 ms with pauses between, the last attempt cut at 700 ms.
  assert.ok(elapsed >= 650 && elapsed < 700 + 250, `gave up after ${elapsed.toFixed(0)} ms, bound 700 ms`);
  assert.ok(hung.calls.length >= 2, `retried: ${hung.calls.length} attempts`);
  await store.close();
});

test('abort() ends pauses and hung attempts at once with its reason, reaches the store below, and refuses later requests', { timeout: 10_000 }, async () => {
  const inner = new FaultyStore((_op, key) => (key === 'hang' ? 'hang' : key === 'fail' ? refused() : undefined));
  const store = new RetryStore(inner, { policy: { initialPauseMs: 60_000, maxTotalPauseMs: 600_000 }, attemptTimeoutMs: 60_000 });
  const hanging = store.get('hang');
  const pausing = store.get('fail');
  await new Promise((resolve) => setTimeout(resolve, 50));
  const reason = new S3BackerError('S3B_STORE_ABORTED', 'unmount');
  const started = performance.now();
  store.abort(reason);
  await assert.rejects(hanging, (error) => error === reason);
  await assert.rejects(pausing, (error) => error === reason);
  assert.ok(performance.now() - started < 100);
  assert.equal(inner.aborted, reason);
  await assert.rejects(store.put('k', Buffer.from('x')), (error) => error === reason);
  await store.close();
});

test('close() ends a pause in progress with S3B_STORE_CLOSED', { timeout: 10_000 }, async () => {
  const store = new RetryStore(new FaultyStore(() => refused()), { policy: { initialPauseMs: 60_000, maxTotalPauseMs: 600_000 }, attemptTimeoutMs: 60_000 });
  const pausing = store.head('k');
  await new Promise((resolve) => setTimeout(resolve, 50));
  await store.close();
  await assert.rejects(pausing, (error) => isS3BackerError(error, 'S3B_STORE_CLOSED'));
});

test('a listing that breaks part way resumes after the last key it gave, each key once, in order', { timeout: 10_000 }, async () => {
  const volume: MemoryVolume = new Map();
  const keys = Array.from({ length: 30 }, (_, i) => `k${String(i).padStart(3, '0')}`);
  const seed = new MemoryStore(volume);
  for (const key of keys) await seed.put(key, Buffer.from(key));
  // The 10th key of a first listing and the 5th key of each resumed one fail, twice each.
  const inner = new FaultyStore((op, key, before) => (op === 'list' && (key === '#10' || /^k\d+#5$/.test(key)) && before < 2 ? slowDown() : undefined), volume);
  const { store, sleeps } = retrying(inner);
  const listed: string[] = [];
  for await (const key of store.list()) listed.push(key);
  assert.deepEqual(listed, keys);
  assert.ok(sleeps.length >= 4, `retried: ${sleeps}`);
  // Each key received starts the budget again: a long listing is not failed for the sum of its hiccups.
  assert.ok(sleeps.every((ms) => ms <= 20), `${sleeps}`);
});

test('faults injected below the retry layer (Stage.STORE_FAULTS) are retried like real ones: the disk sees no error', { timeout: 10_000 }, async () => {
  let injected = 0;
  // Every other request to the store fails with a retryable 503 SlowDown, as the chaos store injects it.
  const faults: S3BackerPlugin = {
    name: 'faults',
    apply: (engine) => engine.hooks.wrapStore.tap({ name: 'faults', stage: Stage.STORE_FAULTS }, (inner: ObjectStore) => {
      let n = 0;
      const maybeFail = () => { if (n++ % 2 === 0) { injected++; throw slowDown(); } };
      return Object.assign(Object.create(inner) as ObjectStore, {
        get: async (key: string) => { maybeFail(); return inner.get(key); },
        put: async (key: string, body: Buffer, options?: object) => { maybeFail(); return inner.put(key, body, options); },
        delete: async (key: string) => { maybeFail(); return inner.delete(key); },
      });
    }),
  };
  const config = testConfig({ store: 'memory', size: 64 * 4096, blockSize: 4096, initialRetryPause: 1, maxRetryPause: 100 });
  const volume: MemoryVolume = new Map();
  const engine = Engine.create(config, [memoryPlugin({ volume }), faults, retryPlugin(config)]);
  const device = await engine.mount();
  try {
    for (let block = 0; block < 8; block++) await device.write(block * 4096, Buffer.alloc(4096, block + 1));
    for (let block = 0; block < 8; block++) assert.ok((await device.read(block * 4096, 4096)).equals(Buffer.alloc(4096, block + 1)));
    assert.ok(injected >= 8, `${injected} faults injected`);
    assert.match(engine.stats.render(), new RegExp(`^store_num_retries +${injected}$`, 'm'));
  } finally {
    await engine.shutdown();
  }
});
