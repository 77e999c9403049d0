import { formatSeconds, type StatsProvider } from 's3backer';

/** What the chaos store did on purpose, by kind: each is a stats line `chaos_injected_<kind>`. */
export const CHAOS_FAULT_KINDS = ['500', '503', '429', '403', 'timeout', 'outage', 'truncated', 'no_etag', 'delay'] as const;
export type ChaosFaultKind = (typeof CHAOS_FAULT_KINDS)[number];

export interface ChaosCounters {
  /** Requests that reached the chaos store (open and close not counted). */
  requests: number;
  injected: Record<ChaosFaultKind, number>;
  /** Sum of the injected delays, ms. */
  delayMs: number;
  /** Requests that discard mode answered without the store. */
  discarded: number;
}

export function newChaosCounters(): ChaosCounters {
  return { requests: 0, injected: Object.fromEntries(CHAOS_FAULT_KINDS.map((kind) => [kind, 0])) as Record<ChaosFaultKind, number>, delayMs: 0, discarded: 0 };
}

/**
 * The chaos plugin's lines in the stats file, in the C tool's format (`chaos_injected_503  12`), so
 * a rehearsal can be read next to the `http_*` counters of the store it disturbed.
 */
export function chaosStats(prefix: string, counters: ChaosCounters): StatsProvider {
  return {
    lines: () => [
      [`${prefix}_requests`, String(counters.requests)],
      ...CHAOS_FAULT_KINDS.map((kind): [string, string] => [`${prefix}_injected_${kind}`, String(counters.injected[kind])]),
      [`${prefix}_delay_average`, formatSeconds(counters.delayMs, counters.injected.delay)],
      [`${prefix}_discarded`, String(counters.discarded)],
    ],
    reset: () => {
      counters.requests = 0;
      for (const kind of CHAOS_FAULT_KINDS) counters.injected[kind] = 0;
      counters.delayMs = 0;
      counters.discarded = 0;
    },
  };
}
