/**
 * A small seeded PRNG (mulberry32, Tommy Ettinger's public-domain 32-bit generator): the chaos
 * store's faults must replay exactly from a seed, which Math.random() cannot do. Not for anything
 * secret. Returns numbers in [0, 1).
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seed for a run nobody asked to replay; logged, so it can be replayed all the same. */
export function randomSeed(): number {
  return Math.floor(Math.random() * 4294967296) >>> 0;
}
