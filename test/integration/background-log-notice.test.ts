import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runS3backer, processAlive } from '../helpers/s3backer-process.js';
import { runCommand } from '../helpers/run-command.js';
import { skipUnlessFuse } from '../helpers/fuse-support.js';
import { mountedPaths } from '../../src/frontends/fuse/mount-table.js';
import { backgroundLogNotice } from '../../src/cli/daemon-log-sink.js';

let work: string | undefined;
after(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

test('going to the background, s3backer says where its log goes from then on', { timeout: 60_000 }, async (t) => {
  if (skipUnlessFuse(t)) return;
  work = await mkdtemp(join(tmpdir(), 's3backer-bglog-'));
  const mnt = join(work, 'mnt');
  await mkdir(mnt);
  const result = await runS3backer(['--store=memory', '--size=1m', 'volume', mnt], { timeoutMs: 30_000 });
  const pid = Number(/s3backer process (\d+) for .* started/.exec(result.stderr)?.[1]);
  try {
    assert.equal(result.code, 0, result.stderr);
    // The same check in this process (same PATH, same /dev/log) gives the same line.
    assert.ok(result.stderr.includes(`s3backer: ${backgroundLogNotice()}\n`), result.stderr);
    assert.match(result.stderr, /s3backer: the background process (logs to syslog|cannot log)/);
  } finally {
    if ((await mountedPaths()).has(mnt)) await runCommand('umount', [mnt]);
    for (let i = 0; i < 200 && pid > 0 && processAlive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    if (pid > 0 && processAlive(pid)) process.kill(pid, 'SIGKILL');
  }
});
