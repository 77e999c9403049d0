/**
 * How long the chaos store delays a request, in ms. In options: a number is a fixed delay,
 * `{ min, max }` is uniform between them (the C tool's --test-delays is `{ min: 0, max: 200 }`,
 * test_io.c), `{ mean }` is exponential with that mean (many short waits, a few long ones, as a
 * loaded server answers), optionally capped by `max`.
 */
export type Latency = number | { min: number; max: number } | { mean: number; max?: number };

export type LatencyDistribution =
  | { kind: 'fixed'; ms: number }
  | { kind: 'uniform'; min: number; max: number }
  | { kind: 'exponential'; mean: number; max: number };

/** A delay from the distribution, given one uniform draw `u` in [0, 1) (so a seed replays it). */
export function sampleLatency(distribution: LatencyDistribution, u: number): number {
  switch (distribution.kind) {
    case 'fixed': return distribution.ms;
    case 'uniform': return distribution.min + u * (distribution.max - distribution.min);
    case 'exponential': return Math.min(distribution.max, -distribution.mean * Math.log(1 - u));
  }
}
