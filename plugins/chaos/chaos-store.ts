import { performance } from 'node:perf_hooks';
import { ForwardingStore, closedStoreError, type GetOptions, type ListOptions, type ObjectInfo, type ObjectStore, type PutOptions, type StoreSupports, type StoredObject } from 's3backer';
import type { ChaosOperation, ChaosSettings, InjectedStatus } from './chaos-options.js';
import { sampleLatency } from './latency-distribution.js';
import { seededRandom } from './seeded-random.js';
import { newChaosCounters, type ChaosCounters } from './chaos-stats.js';
import { injectedHttpError, injectedOutage, injectedTimeout } from './injected-fault.js';

/** What the stores one chaos plugin wraps have in common: its counters and a triggered outage. */
export interface ChaosShared {
  readonly counters: ChaosCounters;
  /** `performance.now()` until which an outage started by `outage()` lasts. */
  outageUntil: number;
}

/** The faults chosen for one request, all drawn when the request arrives. */
interface Plan {
  status: InjectedStatus | undefined;
  hang: boolean;
  delayMs: number;
  /** Where a truncated body is cut, as a share of its length; undefined: not truncated. */
  cutAt: number | undefined;
  missingEtag: boolean;
}

/** A wait that close() and abort() end early. */
interface Waiter {
  wake(): void;
}

const now = () => performance.now();

/**
 * A store around another that misbehaves on purpose (docs/plugins.md, "The chaos store"): injected
 * HTTP errors, delays, hung requests, truncated bodies, answers without an ETag, outage windows,
 * and the C tool's --test-discard (test_io.c). Faults that fail a request fail it before it
 * reaches the inner store, as a server that answered with an error would have done nothing.
 *
 * Reproducible: each request draws the same number of values from the seeded PRNG, synchronously
 * when it arrives (a listing when its first key is asked for), whatever happens to it after, so
 * the same seed and the same order of requests give the same faults; only outages follow the
 * clock.
 */
export class ChaosStore extends ForwardingStore {
  declare readonly supports: StoreSupports;
  private readonly random: () => number;
  private openedAt: number | undefined;
  private closed = false;
  /** Set by abort(): every request in flight and every later one fails with it. */
  private abortReason: Error | undefined;
  private readonly waiters = new Set<Waiter>();
  private discardedPuts = 0;

  constructor(inner: ObjectStore, private readonly settings: ChaosSettings, private readonly shared: ChaosShared = { counters: newChaosCounters(), outageUntil: 0 }) {
    // The inner store's name and place (ForwardingStore): messages name the real store, and a
    // cache file keyed by the description still matches its volume.
    super(inner);
    // Discarding, the store is one that is always empty: a create-only PUT always succeeds.
    this.supports = settings.discard ? { ...inner.supports, conditionalPut: true } : inner.supports;
    this.random = seededRandom(settings.seed);
    // Offered only when the inner store has it (it is optional): one DeleteObjects request is one
    // 'delete' to the chaos store, failing or succeeding as a whole.
    if (inner.deleteMany) {
      const deleteMany = inner.deleteMany.bind(inner);
      this.deleteMany = async (keys) => {
        await this.disturb(this.plan('delete'));
        return this.settings.discard ? this.discarded({ failed: [] }) : deleteMany(keys);
      };
    }
  }

  declare readonly deleteMany: ObjectStore['deleteMany'];

  get counters(): Readonly<ChaosCounters> {
    return this.shared.counters;
  }

  /** Every request fails as a refused connection for the next `ms` (as well as in configured windows); `outage(0)` ends it. */
  outage(ms: number): void {
    this.shared.outageUntil = now() + ms;
  }

  override async open(): Promise<void> {
    this.checkUsable();
    // Configured outages count from the first open: the mount's first I/O.
    this.openedAt ??= now();
    this.failDuringOutage();
    if (!this.settings.discard) await this.inner.open();
  }

  override async get(key: string, options?: GetOptions): Promise<StoredObject | null> {
    const plan = this.plan('get');
    await this.disturb(plan);
    if (this.settings.discard) return this.discarded(null);
    const object = await this.inner.get(key, options);
    if (!object) return null;
    let result = object;
    if (plan.cutAt !== undefined && object.body.length > 0) {
      // Cut at least one byte short, keeping the announced size: a connection that broke mid-body.
      result = { ...result, body: object.body.subarray(0, Math.floor(plan.cutAt * object.body.length)) };
      this.shared.counters.injected.truncated++;
    }
    return plan.missingEtag ? this.withoutEtag(result) : result;
  }

  override async head(key: string): Promise<ObjectInfo | null> {
    const plan = this.plan('head');
    await this.disturb(plan);
    if (this.settings.discard) return this.discarded(null);
    const info = await this.inner.head(key);
    return info && plan.missingEtag ? this.withoutEtag(info) : info;
  }

  override async put(key: string, body: Buffer, options?: PutOptions): Promise<{ etag: string }> {
    const plan = this.plan('put');
    await this.disturb(plan);
    const answer = this.settings.discard ? this.discarded({ etag: `"chaos-discarded-${(++this.discardedPuts).toString(16)}"` }) : await this.inner.put(key, body, options);
    return plan.missingEtag ? this.withoutEtag(answer) : answer;
  }

  override async delete(key: string): Promise<void> {
    const plan = this.plan('delete');
    await this.disturb(plan);
    if (this.settings.discard) return this.discarded(undefined);
    await this.inner.delete(key);
  }

  override async *list(options?: ListOptions): AsyncIterable<string> {
    const plan = this.plan('list');
    await this.disturb(plan);
    if (this.settings.discard) return this.discarded(undefined);
    yield* this.inner.list(options);
  }

  /** Ends held and delayed requests at once (held ones fail as timeouts), then closes the inner store. */
  override async close(): Promise<void> {
    this.closed = true;
    this.wakeAll();
    await super.close();
  }

  /** Held and delayed requests, and every later one, fail at once with `reason`; then the inner store is told. */
  override abort(reason: Error): void {
    this.abortReason ??= reason;
    this.wakeAll();
    super.abort(reason);
  }

  /** Draw every value this request may need, always the same number, before anything can interleave. */
  private plan(op: ChaosOperation): Plan {
    this.checkUsable();
    const { settings } = this;
    const [uError, uHang, uDelay, uTruncate, uCut, uEtag] = [this.random(), this.random(), this.random(), this.random(), this.random(), this.random()];
    this.shared.counters.requests++;
    let status: InjectedStatus | undefined;
    let below = 0;
    for (const [candidate, share] of settings.errors[op]) {
      below += share;
      if (uError < below) {
        status = candidate;
        break;
      }
    }
    const latency = settings.latency[op];
    return {
      status,
      hang: uHang < settings.hangRate[op],
      delayMs: latency === undefined ? 0 : sampleLatency(latency, uDelay),
      cutAt: op === 'get' && uTruncate < settings.truncateRate ? uCut : undefined,
      missingEtag: uEtag < settings.missingEtagRate[op],
    };
  }

  /** The faults that happen before the request reaches the store: outage, delay, hang, error. */
  private async disturb(plan: Plan): Promise<void> {
    const { counters } = this.shared;
    this.failDuringOutage();
    if (plan.delayMs > 0) {
      counters.injected.delay++;
      counters.delayMs += plan.delayMs;
      await this.wait(plan.delayMs);
      this.checkUsable();
    }
    if (plan.hang) {
      counters.injected.timeout++;
      const started = now();
      await this.wait(this.settings.hangMs ?? Infinity);
      if (this.abortReason) throw this.abortReason;
      throw this.closed ? injectedTimeout(now() - started, true) : injectedTimeout(this.settings.hangMs!, false);
    }
    if (plan.status !== undefined) {
      counters.injected[plan.status]++;
      throw injectedHttpError(plan.status);
    }
  }

  private failDuringOutage(): void {
    const t = now();
    let left = this.shared.outageUntil - t;
    if (this.openedAt !== undefined) {
      for (const { start, duration } of this.settings.outages) {
        const from = this.openedAt + start;
        if (t >= from && t < from + duration) left = Math.max(left, from + duration - t);
      }
    }
    if (left > 0) {
      this.shared.counters.injected.outage++;
      throw injectedOutage(left);
    }
  }

  private checkUsable(): void {
    if (this.closed) throw closedStoreError(this.kind);
    if (this.abortReason) throw this.abortReason;
  }

  private wakeAll(): void {
    for (const waiter of [...this.waiters]) waiter.wake();
  }

  /** Resolves after `ms`, or at once when the store is closed or aborted. */
  private wait(ms: number): Promise<void> {
    if (this.closed || this.abortReason) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const waiter: Waiter = {
        wake: () => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve();
        },
      };
      const timer = Number.isFinite(ms) ? setTimeout(waiter.wake, ms) : undefined;
      this.waiters.add(waiter);
    });
  }

  private discarded<T>(answer: T): T {
    this.checkUsable();
    this.shared.counters.discarded++;
    return answer;
  }

  /**
   * The answer with its `etag` field absent: what a store that forgot it, or a server whose
   * answer lacked the header, hands the engine. Outside the type on purpose: the engine must not
   * take such an object for "no object" (which would read as zeros).
   */
  private withoutEtag<T extends { etag: string }>(answer: T): T {
    this.shared.counters.injected.no_etag++;
    const { etag: _dropped, ...rest } = answer;
    return rest as T;
  }
}
