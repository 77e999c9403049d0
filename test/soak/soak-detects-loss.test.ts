import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSoak } from '../../scripts/soak/soak-run.js';
import { defaultSoakOptions, type SoakOptions } from '../../scripts/soak/soak-options.js';
import { formatSoakReport } from '../../scripts/soak/soak-report.js';
import { formatMismatch } from '../../scripts/soak/mismatch.js';
import { dropEveryNthPut, staleEveryNthGet, type BrokenStorePlugin } from './broken-store-plugins.js';

/**
 * The soak can fail: over a store that loses writes or answers stale data, it reports the
 * mismatch with the block, the offset and the seed, and does not pass. Without this, a checker
 * that compares nothing would look exactly like an engine that loses nothing.
 */
function options(seed: number): SoakOptions {
  const base = defaultSoakOptions();
  // No injected faults: whatever goes wrong is the broken store's doing.
  return {
    ...base, seed, ops: 3000, workers: 8, blocks: 64, cacheSize: 8, progressEvery: 0, checkpointEvery: 1000,
    faults: { ...base.faults, errorRate: 0, hangRate: 0, truncateRate: 0, missingEtagRate: 0, outageEvery: 0 },
  };
}

async function expectCaught(t: { diagnostic(message: string): void }, broken: BrokenStorePlugin, seed: number, what: string): Promise<void> {
  const result = await runSoak(options(seed), { extraPlugins: [broken] });
  const report = formatSoakReport(result);
  t.diagnostic(`${what}: ${broken.broken()} injected; ${report.find((line) => /lost/.test(line))?.trim()}`);
  assert.ok(broken.broken() > 0, `the broken store did break something (${what})`);
  assert.equal(result.passed, false, `the soak must fail over a store that ${what}`);
  assert.ok(result.lostWrites > 0 && result.mismatches.length > 0);
  const first = result.mismatches[0]!;
  assert.ok(first.block >= 0 && first.block < 64, `names the block (${first.block})`);
  assert.ok(first.offsetInBlock >= 0 && first.offsetInBlock < 4096);
  assert.equal(first.diskOffset, first.block * 4096 + first.offsetInBlock, 'and the disk offset');
  assert.notEqual(first.expected, first.got);
  const line = formatMismatch(first, result.seed);
  assert.match(line, new RegExp(`^MISMATCH \\(${first.phase}\\) block ${first.block} offset ${first.offsetInBlock} in the block \\(disk offset ${first.diskOffset}\\), seed ${seed}:`));
  assert.match(report[0]!, new RegExp(`^soak FAILED: .* seed ${seed}$`));
  assert.ok(report.some((text) => new RegExp(`acknowledged writes lost: ${result.lostWrites} `).test(text)));
}

test('the soak reports lost writes: a store that drops every 20th PUT silently', { timeout: 120_000 }, async (t) => {
  await expectCaught(t, dropEveryNthPut(20), 11, 'drops every 20th PUT');
});

test('the soak reports stale reads: a store that answers every 10th GET with the previous version', { timeout: 120_000 }, async (t) => {
  await expectCaught(t, staleEveryNthGet(10), 12, 'answers every 10th GET stale');
});
