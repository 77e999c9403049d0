import type { StatsProvider } from 's3backer';
import type { Md5ProtectCounters } from './md5-protected-store.js';

/** What the stats lines read: the table's size and the store's counters (none before the mount). */
export interface Md5ProtectStatsSource {
  readonly size: number;
  readonly counters: Md5ProtectCounters;
}

/** Total milliseconds as the C tool prints a delay: `%ju.%03u sec` (whole seconds, then milliseconds, truncated). */
export function formatDelay(ms: number): string {
  const whole = Math.max(0, Math.floor(ms));
  return `${Math.floor(whole / 1000)}.${String(whole % 1000).padStart(3, '0')} sec`;
}

/**
 * The C tool's MD5 cache lines, in its order (s3b_config.c, the stats printer). Unlinking the stats
 * file resets the counters, not the table's size, as there.
 */
export function md5ProtectStats(source: () => Md5ProtectStatsSource | undefined): StatsProvider {
  return {
    lines: () => {
      const current = source();
      const counters = current?.counters;
      return [
        ['md5_cache_current_size', `${current?.size ?? 0} blocks`],
        ['md5_cache_data_hits', String(counters?.dataHits ?? 0)],
        ['md5_cache_full_delays', formatDelay(counters?.fullDelayMs ?? 0)],
        ['md5_cache_write_delays', formatDelay(counters?.writeDelayMs ?? 0)],
      ];
    },
    reset: () => {
      const counters = source()?.counters;
      if (!counters) return;
      counters.dataHits = 0;
      counters.fullDelayMs = 0;
      counters.writeDelayMs = 0;
      counters.staleReads = 0;
    },
  };
}
