import type { CrashLoopResult } from './crash-loop-run.js';

const MiB = 1024 * 1024;

/** The crash loop's closing lines: rounds by kind, recovered blocks, what was verified, what was lost. */
export function formatCrashLoopReport(result: CrashLoopResult, argv: readonly string[] = []): string[] {
  const kills = result.rounds.filter((round) => round.kind === 'write-kill' || round.kind === 'recovery-kill');
  const checked = result.rounds.filter((round) => round.verify);
  const sum = (pick: (round: (typeof result.rounds)[number]) => number) => result.rounds.reduce((total, round) => total + pick(round), 0);
  const lost = sum((round) => round.verify?.failures.length ?? 0);
  const failures = result.rounds.flatMap((round) => [...round.failures, ...round.errors].map((failure) => `round ${round.round} (${round.kind}): ${failure}`));
  const replay = [...argv.filter((arg) => !/^--seed(=|$)/.test(arg)), `--seed=${result.seed}`].join(' ');
  return [
    `crash loop ${result.passed ? 'PASSED' : 'FAILED'}: ${kills.length} kill -9 rounds (${kills.filter((round) => round.kind === 'recovery-kill').length} during recovery) in ${(result.durationMs / 1000).toFixed(1)} s, seed ${result.seed}`,
    `  dirty blocks recovered from the cache file after kills: ${sum((round) => round.recoveredDirtyBlocks)} (most in one start: ${Math.max(0, ...result.rounds.map((round) => round.recoveredDirtyBlocks))})`,
    `  e2fsck -fn after journal replay: ${checked.filter((round) => round.fsckClean).length} clean of ${checked.length} checks`,
    `  fsynced chunks verified: ${sum((round) => round.verify?.chunks ?? 0)} (${(sum((round) => round.verify?.bytes ?? 0) / MiB).toFixed(1)} MiB) in ${checked.length} checks; ` +
      `${sum((round) => round.verify?.newer ?? 0)} held a later unsynced write, ${sum((round) => round.verify?.torn ?? 0)} torn at sector size (both allowed)`,
    `  writes covered by a completed fsync and lost: ${lost}`,
    ...(result.rounds.some((round) => round.errors.length > 0) ? ['  a round could not complete (no verdict on its data):'] : []),
    ...failures.map((failure) => `    ${failure}`),
    ...(result.kept ? [`  work directory kept: ${result.work}`] : []),
    `  seed: ${result.seed} (replay: npm run crash-loop -- ${replay})`,
  ];
}
