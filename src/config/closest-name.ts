/**
 * The "did you mean" helper behind every unknown-option error (flags, `-o` items, config-file keys).
 * Case-insensitive, because the C tool's flags are camelCase (`--blockSize`) and the commonest typo
 * is the case (`--blocksize`); the next commonest is two letters swapped (`vhots`), which counts as
 * one edit. Only suggests names that are reasonably close, so a wild guess gets no misleading hint.
 */
export function closestName(input: string, candidates: Iterable<string>): string | undefined {
  const needle = input.toLowerCase();
  // About one edit per three characters; inputs shorter than three characters only match up to case
  // ("x" must not suggest "f", nor "ro" suggest "rw").
  const maxDistance = needle.length < 3 ? 0 : Math.max(1, Math.floor(needle.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(needle, candidate.toLowerCase());
    if (distance > maxDistance || distance >= candidate.length) continue;
    // Ties go to the first candidate (table order).
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/**
 * Damerau–Levenshtein distance in its "optimal string alignment" form: insert, delete, substitute,
 * and swap two adjacent letters, each one edit (no substring is edited twice, which is all a typo
 * needs). Three rows of memory.
 */
function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  let beforePrevious = new Array<number>(b.length + 1).fill(0);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  let current = new Array<number>(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let distance = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) distance = Math.min(distance, beforePrevious[j - 2]! + 1);
      current[j] = distance;
    }
    [beforePrevious, previous, current] = [previous, current, beforePrevious];
  }
  return previous[b.length]!;
}
