import { performance } from 'node:perf_hooks';
import { S3BackerError, Stage, type S3BackerPlugin } from 's3backer';
import { resolveChaosOptions, type ChaosOptions, type ChaosSettings } from './chaos-options.js';
import { ChaosStore, type ChaosShared } from './chaos-store.js';
import { chaosStats, newChaosCounters, type ChaosCounters } from './chaos-stats.js';

export const CHAOS_PLUGIN_NAME = 'chaos';

/** The plugin, plus what a test or a rehearsal needs to steer and read it. */
export interface ChaosPlugin extends S3BackerPlugin {
  readonly settings: ChaosSettings;
  /** Counters of every store this plugin wrapped (the same numbers as its stats lines). */
  readonly counters: Readonly<ChaosCounters>;
  /**
   * From now on, for `ms`, every request of every store this plugin wraps fails as a refused
   * connection (configured windows apply as well). A later call replaces the end: `outage(0)` ends it.
   */
  outage(ms: number): void;
}

/**
 * Wraps the chosen store (s3, dir, memory, a third party's) at `Stage.STORE_FAULTS`, nearest the
 * real store, so every layer above (retries, limits, the cache) meets the faults as it would meet
 * a misbehaving server. Options are validated here: a bad one fails at config load.
 */
export function chaosPlugin(options: ChaosOptions = {}): ChaosPlugin {
  const settings = resolveChaosOptions(options);
  const shared: ChaosShared = { counters: newChaosCounters(), outageUntil: 0 };
  const { name } = settings;
  return {
    name,
    settings,
    counters: shared.counters,
    outage(ms: number) {
      if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
        throw new S3BackerError('S3B_CONFIG_INVALID', `chaos outage(ms) needs a number of ms, at least 0, not ${String(ms)}; fix the call`);
      }
      shared.outageUntil = performance.now() + ms;
    },
    apply(engine) {
      const log = engine.logger(name);
      engine.stats(chaosStats(name.replace(/-/g, '_'), shared.counters));
      engine.hooks.wrapStore.tap({ name, stage: Stage.STORE_FAULTS }, (inner) => {
        // A warning, not info: whoever reads the log after an EIO must learn the faults were on purpose.
        log.warn(`injecting faults into the ${inner.kind} store ${inner.description}${settings.discard ? ' (discarding all data)' : ''}; seed ${settings.seed}${settings.randomSeed ? ' (random: pass seed: ' + settings.seed + ' to replay)' : ''}`);
        return new ChaosStore(inner, settings, shared);
      });
    },
  };
}
