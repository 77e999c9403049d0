import { Stage, type ResolvedConfig, type S3BackerPlugin } from 's3backer';
import { RetryStore } from './retry-store.js';
import { RetryStats } from './retry-stats.js';
import { AdaptiveConcurrency } from './adaptive-concurrency.js';
import type { RetryPolicy } from './retry-policy.js';

export const RETRY_PLUGIN_NAME = 'retry';

export interface RetryPluginOptions {
  /** Ceiling of the adaptive limit on requests in flight; default --blockCacheThreads. 0: no adaptive limit. */
  maxInFlight?: number;
  /** Injectable waits and jitter, for tests. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
}

/**
 * Retries, time bounds and slowing down on throttling for whichever store is chosen
 * (retry-store.ts), wrapped at Stage.STORE_RETRY: above the chaos store's injected faults, below
 * the bandwidth limits. Settings come from `--initialRetryPause`, `--maxRetryPause` and
 * `--timeout`; the configured parallelism (`--blockCacheThreads`, the C tool's worker threads,
 * which are what sends requests in parallel) is the most the adaptive limit grows back to.
 */
export function retryPlugin(config: ResolvedConfig, options: RetryPluginOptions = {}): S3BackerPlugin {
  const policy: RetryPolicy = { initialPauseMs: config.initialRetryPause, maxTotalPauseMs: config.maxRetryPause };
  const attemptTimeoutMs = config.timeout * 1000;
  const maxInFlight = options.maxInFlight ?? Math.max(1, config.blockCacheThreads);
  return {
    name: RETRY_PLUGIN_NAME,
    apply(engine) {
      engine.hooks.wrapStore.tap({ name: RETRY_PLUGIN_NAME, stage: Stage.STORE_RETRY }, (store) => {
        // One limiter per store: every request of the mount shares it.
        const concurrency = maxInFlight > 0 ? new AdaptiveConcurrency(maxInFlight) : undefined;
        const stats = new RetryStats(engine.config.store === 's3' ? 'http' : 'store', concurrency);
        engine.stats(stats);
        return new RetryStore(store, {
          policy, attemptTimeoutMs, stats, logger: engine.logger(RETRY_PLUGIN_NAME),
          ...(concurrency ? { concurrency } : {}),
          ...(options.sleep ? { sleep: options.sleep } : {}),
          ...(options.random ? { random: options.random } : {}),
        });
      });
    },
  };
}

export { RetryStore, type RetryStoreOptions } from './retry-store.js';
export { RetryStats } from './retry-stats.js';
export { AdaptiveConcurrency, type ConcurrencySlot, type AttemptOutcome } from './adaptive-concurrency.js';
export { isThrottling } from './is-throttling.js';
export { nextRetryPause, pauseCeiling, retrySchedule, type RetryPolicy } from './retry-policy.js';
