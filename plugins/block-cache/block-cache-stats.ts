import type { StatsProvider } from 's3backer';
import type { BlockCache } from './block-cache.js';

const ratio = (hits: number, misses: number) => (hits + misses === 0 ? 0 : hits / (hits + misses)).toFixed(8);

/** The C tool's `block_cache_*` lines (block_cache.c `block_cache_get_stats`), in its order and format. */
export function blockCacheStats(cache: () => BlockCache | undefined): StatsProvider {
  return {
    lines: () => {
      const current = cache();
      const c = current?.counters ?? { readHits: 0, readMisses: 0, writeHits: 0, writeMisses: 0, verified: 0, mismatch: 0 };
      const capacity = current?.capacity ?? 1;
      return [
        ['block_cache_current_size', `${current?.size ?? 0} blocks`],
        ['block_cache_initial_size', `${current?.initialSize ?? 0} blocks`],
        ['block_cache_dirty_ratio', ((current?.dirtyCount ?? 0) / capacity).toFixed(8)],
        ['block_cache_read_hits', String(c.readHits)],
        ['block_cache_read_misses', String(c.readMisses)],
        ['block_cache_read_hit_ratio', ratio(c.readHits, c.readMisses)],
        ['block_cache_write_hits', String(c.writeHits)],
        ['block_cache_write_misses', String(c.writeMisses)],
        ['block_cache_write_hit_ratio', ratio(c.writeHits, c.writeMisses)],
        ['block_cache_verified', String(c.verified)],
        ['block_cache_mismatch', String(c.mismatch)],
      ];
    },
    reset: () => {
      const current = cache();
      if (!current) return;
      for (const key of Object.keys(current.counters) as Array<keyof typeof current.counters>) current.counters[key] = 0;
    },
  };
}
