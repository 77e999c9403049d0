import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from '../helpers/run-command.js';
import { S3BACKER_BIN } from '../helpers/s3backer-process.js';
import { mountedPaths } from '../../src/frontends/fuse/mount-table.js';

/**
 * docs/examples/s3backer@.service, started by a real systemd: mounted when `systemctl start`
 * returns, flushed and the mounted flag cleared when `systemctl stop` returns, data back on the
 * next start. Needs systemd as PID 1 (not in most containers, where it skips with the reason).
 */
const UNIT = fileURLToPath(new URL('../../../docs/examples/s3backer@.service', import.meta.url));
const skip = process.getuid?.() !== 0 ? 'needs root'
  : !existsSync('/run/systemd/system') ? 'systemd is not PID 1 here (a container); the unit is tested where it is'
  : undefined;
if (skip) console.log(`# skipping the systemd unit test: ${skip}`);

test('the example unit mounts at start, flushes and clears the mounted flag at stop, and the data survives a restart', { skip, timeout: 180_000 }, async () => {
  const work = await mkdtemp(join(tmpdir(), 's3backer-systemd-'));
  const instance = `test${process.pid}`;
  const unitPath = `/run/systemd/system/s3backer@.service`;
  const store = join(work, 'store');
  const mnt = `/mnt/${instance}`;
  await mkdir(store);
  await mkdir('/etc/s3backer', { recursive: true });
  const conf = `/etc/s3backer/${instance}.conf`;
  await writeFile(conf, ['--test', '--size=4m', '--blockSize=64k', store, mnt, ''].join('\n'));
  await writeFile(unitPath, (await readFile(UNIT, 'utf8')).replace('/usr/local/bin/s3backer', S3BACKER_BIN));
  const systemctl = (...args: string[]) => runCommand('systemctl', args, { timeoutMs: 120_000 });
  try {
    assert.equal((await systemctl('daemon-reload')).code, 0);
    const started = await systemctl('start', `s3backer@${instance}`);
    assert.equal(started.code, 0, started.stderr);
    assert.ok((await mountedPaths()).has(mnt), 'mounted when systemctl start returned');
    const data = Buffer.alloc(300_000, 0x5e);
    await writeFile(join(mnt, 'file'), data, { flag: 'r+' });
    const stopped = await systemctl('stop', `s3backer@${instance}`);
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.ok(!(await mountedPaths()).has(mnt));
    assert.ok(!existsSync(join(store, 's3backer-mounted')), 'the mounted flag is cleared when stop returns');
    assert.equal((await systemctl('start', `s3backer@${instance}`)).code, 0);
    assert.deepEqual((await readFile(join(mnt, 'file'))).subarray(0, data.length), data);
    assert.equal((await systemctl('stop', `s3backer@${instance}`)).code, 0);
  } finally {
    await systemctl('stop', `s3backer@${instance}`);
    await rm(unitPath, { force: true });
    await rm(conf, { force: true });
    await systemctl('daemon-reload');
    if ((await mountedPaths()).has(mnt)) await runCommand('umount', ['-l', mnt]);
    await rm(mnt, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  }
});
