// `npm run soak`: the property test of GitHub issue 11, in the spirit of the C tool's tester.c.
// Concurrent workers read, write and trim random ranges through the real engine (block cache over
// the retry layer over the chaos store over a memory or dir store); every read is checked against
// an oracle of acknowledged writes, checkpoints compare the store itself after a quiet flush, and
// at the end a fresh engine without cache re-reads the whole volume. Exit status 1 on any
// mismatch. Options: `npm run soak -- --help`; docs/reliability.md has the figures.
import { writeFile } from 'node:fs/promises';
import { parseSoakOptions } from './soak/soak-options.js';
import { runSoak } from './soak/soak-run.js';
import { formatSoakReport } from './soak/soak-report.js';

async function main(): Promise<number> {
  let options;
  try {
    options = parseSoakOptions(process.argv.slice(2));
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    return 2;
  }
  const result = await runSoak(options, { print: (line) => console.log(line) });
  for (const line of formatSoakReport(result, process.argv.slice(2))) console.log(line);
  if (options.json) await writeFile(options.json, JSON.stringify(result, null, 2) + '\n');
  return result.passed ? 0 : 1;
}

process.exitCode = await main();
