import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSoak } from '../../scripts/soak/soak-run.js';
import { defaultSoakOptions, type SoakOptions } from '../../scripts/soak/soak-options.js';
import { formatSoakReport } from '../../scripts/soak/soak-report.js';
import { randomSeed } from '../../plugins/chaos/seeded-random.js';

/**
 * A few seconds of `npm run soak` (scripts/soak.ts) with the default faults: once with a fixed
 * seed, once with a random one, printed so a failure can be replayed (`npm run soak -- --seed=S
 * --ops=N`), and once over the dir store with the cache in a cache file and delayed answers.
 */
async function soak(t: { diagnostic(message: string): void }, overrides: Partial<SoakOptions>): Promise<void> {
  const options = { ...defaultSoakOptions(), ops: 4000, progressEvery: 0, checkpointEvery: 1500, ...overrides };
  console.log(`soak seed ${options.seed} (replay: npm run soak -- --seed=${options.seed} --ops=${options.ops})`);
  const result = await runSoak(options, { print: (line) => console.log(line) });
  const report = formatSoakReport(result);
  for (const line of report) t.diagnostic(line);
  assert.equal(result.lostWrites, 0, report.join('\n'));
  assert.ok(result.passed);
  assert.equal(result.operations, options.ops);
  assert.ok(result.checkpointsVerified >= 1, 'at least the final checkpoint compared the store');
  assert.ok(result.bytesVerified > options.blocks * options.blockSize, 'reads and the remount compared bytes');
  assert.ok(result.faults.requests > 0);
}

test('soak, fixed seed: no acknowledged write lost under injected faults', { timeout: 180_000 }, async (t) => {
  await soak(t, { seed: 20251120 });
});

test('soak, random seed (printed): no acknowledged write lost under injected faults', { timeout: 180_000 }, async (t) => {
  await soak(t, { seed: randomSeed() });
});

test('soak over the dir store with a cache file and delayed answers: no acknowledged write lost', { timeout: 180_000 }, async (t) => {
  const base = defaultSoakOptions();
  await soak(t, { seed: 7, ops: 1500, backend: 'dir', cacheFile: true, faults: { ...base.faults, latencyMean: 1, latencyMax: 20 } });
});
