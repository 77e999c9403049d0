// `npm run crash-loop`: the kill -9 crash loop of GitHub issue 11. ext4 on s3backer (bin/s3backer
// over FUSE, dir store, --blockCacheFile) on a loop device; a checksummed writer journals, outside
// the disk, what each completed fsync covered; s3backer is killed at a random moment, the dead
// mounts taken down, a new process recovers from the cache file; then e2fsck must be clean after
// the journal replay and every fsynced chunk must verify. Needs root, /dev/fuse and loop devices.
// Options: `npm run crash-loop -- --help`; docs/reliability.md has the figures.
import { writeFile } from 'node:fs/promises';
import { fuseUnavailableReason } from '../test/helpers/fuse-support.js';
import { parseCrashLoopOptions } from './soak/crash-loop-options.js';
import { runCrashLoop } from './soak/crash-loop-run.js';
import { formatCrashLoopReport } from './soak/crash-loop-report.js';

async function main(): Promise<number> {
  let options;
  try {
    options = parseCrashLoopOptions(process.argv.slice(2));
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    return 2;
  }
  const unavailable = fuseUnavailableReason({ loop: true });
  if (unavailable) {
    console.error(`crash loop: cannot run: ${unavailable}`);
    return 2;
  }
  const result = await runCrashLoop(options, (line) => console.log(line));
  for (const line of formatCrashLoopReport(result, process.argv.slice(2))) console.log(line);
  if (options.json) await writeFile(options.json, JSON.stringify(result, null, 2) + '\n');
  return result.passed ? 0 : 1;
}

process.exitCode = await main();
