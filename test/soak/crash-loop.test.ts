import { test } from 'node:test';
import assert from 'node:assert/strict';
import { skipUnlessFuse } from '../helpers/fuse-support.js';
import { runCrashLoop } from '../../scripts/soak/crash-loop-run.js';
import { defaultCrashLoopOptions } from '../../scripts/soak/crash-loop-options.js';
import { formatCrashLoopReport } from '../../scripts/soak/crash-loop-report.js';

/**
 * Three rounds of `npm run crash-loop` (scripts/crash-loop.ts): ext4 on bin/s3backer with a cache
 * file, a writer journaling its fsyncs, kill -9 at a random moment, recovery in a new process;
 * after each: e2fsck -fn clean after the journal replay, every fsynced chunk intact; at the end a
 * clean unmount, and the same checks again with no cache file (everything from the store).
 */
test('crash loop: kill -9 of s3backer under ext4, three rounds: e2fsck clean, nothing fsynced lost, recovered from the cache file', { timeout: 300_000 }, async (t) => {
  if (skipUnlessFuse(t, { loop: true })) return;
  const options = { ...defaultCrashLoopOptions(), rounds: 3, seed: 3, minRunMs: 300, maxRunMs: 1500 };
  const result = await runCrashLoop(options, (line) => t.diagnostic(line));
  const report = formatCrashLoopReport(result, ['--rounds=3']);
  for (const line of report) t.diagnostic(line);
  assert.ok(result.passed, report.join('\n'));
  const kills = result.rounds.filter((round) => round.kind === 'write-kill');
  assert.ok(kills.length >= 2, 'at least two rounds killed s3backer under the writer');
  for (const round of result.rounds) {
    assert.deepEqual([...round.failures, ...round.errors], [], `round ${round.round} (${round.kind})`);
    if (round.verify) assert.equal(round.fsckClean, true);
  }
  const cold = result.rounds.find((round) => round.kind === 'cold');
  assert.ok(cold?.verify && cold.verify.chunks > 0, 'the cold check (no cache file) verified the fsynced chunks from the store');
  assert.equal(result.kept, false, 'the work directory is removed after a passing run');
});
