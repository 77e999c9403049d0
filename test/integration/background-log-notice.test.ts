import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runS3backer, processAlive } from '../helpers/s3backer-process.js';
import { runCommand } from '../helpers/run-command.js';
import { skipUnlessFuse } from '../helpers/fuse-support.js';
import { mountedPaths } from '../../src/frontends/fuse/mount-table.js';
import { readFile } from 'node:fs/promises';
import { backgroundLogNotice, backgroundLogTarget } from '../../src/cli/daemon-log-sink.js';

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
    assert.ok(result.stderr.includes(`s3backer: ${backgroundLogNotice(backgroundLogTarget(undefined))}\n`), result.stderr);
    assert.match(result.stderr, /s3backer: the background process logs to (syslog|\S+, not syslog)/);
  } finally {
    if ((await mountedPaths()).has(mnt)) await runCommand('umount', [mnt]);
    for (let i = 0; i < 200 && pid > 0 && processAlive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    if (pid > 0 && processAlive(pid)) process.kill(pid, 'SIGKILL');
  }
});

test('--logFile: the background process writes its whole life there, through the unmount', { timeout: 60_000 }, async (t) => {
  if (skipUnlessFuse(t)) return;
  work ??= await mkdtemp(join(tmpdir(), 's3backer-bglog-'));
  const mnt = join(work, 'mnt-logfile');
  const log = join(work, 'disk.log');
  await mkdir(mnt);
  const result = await runS3backer(['--store=memory', '--size=1m', `--logFile=${log}`, 'volume', mnt], { timeoutMs: 30_000 });
  const pid = Number(/s3backer process (\d+) for .* started/.exec(result.stderr)?.[1]);
  try {
    assert.equal(result.code, 0, result.stderr);
    assert.ok(result.stderr.includes(`s3backer: the background process logs to ${log}: look there`), result.stderr);
    assert.equal((await runCommand('umount', [mnt])).code, 0);
    for (let i = 0; i < 200 && processAlive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok(!processAlive(pid));
    const text = await readFile(log, 'utf8');
    assert.match(text, new RegExp(`s3backer\\[${pid}\\] INFO: s3backer process ${pid} for ${mnt} started`));
    assert.match(text, /INFO: unmount .* completed/);
  } finally {
    if ((await mountedPaths()).has(mnt)) await runCommand('umount', [mnt]);
    if (pid > 0 && processAlive(pid)) process.kill(pid, 'SIGKILL');
  }
});
