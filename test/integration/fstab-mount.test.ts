import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../helpers/run-command.js';
import { S3BACKER_BIN, processAlive } from '../helpers/s3backer-process.js';
import { startS3rver, type S3rverServer } from '../helpers/s3rver-server.js';
import { fuseUnavailableReason } from '../helpers/fuse-support.js';
import { mountedPaths } from '../../src/frontends/fuse/mount-table.js';

/**
 * /etc/fstab as the C tool documents it, through util-linux mount(8) and fuse3's mount.fuse: the
 * `prog#source` form with type `fuse`, and type `fuse.s3backer`. `mount -T FILE` reads a test's
 * own fstab, so the machine's /etc/fstab is never touched. mount(8) starts the helper with NO
 * PATH, and the s3backer options come as one `-o` list (C flags without `--`).
 */
const skip = fuseUnavailableReason() ?? (existsSync('/sbin/mount.fuse3') || existsSync('/sbin/mount.fuse') ? undefined : 'mount.fuse not installed (apt-get install fuse3)');
if (skip) console.log(`# skipping the fstab tests: ${skip}`);

let server: S3rverServer | undefined;
let work: string | undefined;
after(async () => {
  await server?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

async function mountThroughFstab(line: string, mnt: string): Promise<number> {
  const fstab = join(work!, 'fstab');
  await writeFile(fstab, `# written by s3backer's fstab test\n${line}\n`);
  const mounted = await runCommand('mount', ['-T', fstab, mnt], { timeoutMs: 60_000 });
  assert.equal(mounted.code, 0, `mount -T: ${mounted.stderr}`);
  assert.ok((await mountedPaths()).has(mnt));
  const pid = Number(/s3backer process (\d+) for .* started/.exec(mounted.stderr)?.[1]);
  assert.ok(pid > 0, mounted.stderr);
  return pid;
}

async function unmountAndWait(mnt: string, pid: number): Promise<void> {
  assert.equal((await runCommand('umount', [mnt])).code, 0);
  for (let i = 0; i < 300 && processAlive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  assert.ok(!processAlive(pid), 'the background process flushed and exited after umount');
}

test('fstab: `s3backer#bucket/prefix /mnt fuse noauto,…` mounts with mount(8), umount flushes, and the data is there on the next mount', { skip, timeout: 120_000 }, async () => {
  work = await mkdtemp(join(tmpdir(), 's3backer-fstab-'));
  server = await startS3rver({ buckets: ['fstab'] });
  const mnt = join(work, 'mnt');
  await mkdir(mnt);
  const options = `noauto,_netdev,nofail,baseURL=${server.endpoint},accessId=${server.accessId},accessKey=${server.accessKey},size=4m,blockSize=64k,logFile=${join(work, 'log')}`;
  const data = Buffer.alloc(200_000, 0x3c);
  try {
    let pid = await mountThroughFstab(`${S3BACKER_BIN}#fstab/disk1 ${mnt} fuse ${options} 0 0`, mnt);
    await writeFile(join(mnt, 'file'), data, { flag: 'r+' });
    await unmountAndWait(mnt, pid);
    pid = await mountThroughFstab(`${S3BACKER_BIN}#fstab/disk1 ${mnt} fuse ${options},readOnly 0 0`, mnt);
    assert.deepEqual((await readFile(join(mnt, 'file'))).subarray(0, data.length), data);
    await unmountAndWait(mnt, pid);
    // The background process found its programs and wrote its log with no PATH from mount(8).
    assert.match(await readFile(join(work, 'log'), 'utf8'), /INFO: unmount .*: completed/);
  } finally {
    if ((await mountedPaths()).has(mnt)) await runCommand('umount', ['-l', mnt]);
  }
});

test('fstab: type fuse.s3backer runs `s3backer` from the default search path (where npm install -g puts it)', { skip, timeout: 120_000 }, async (t) => {
  // mount.fuse runs the type's program by name, with no PATH: the shell's default finds /usr/local/bin.
  const link = '/usr/local/bin/s3backer';
  if (existsSync(link)) return t.skip(`${link} exists already; not replacing it`);
  work ??= await mkdtemp(join(tmpdir(), 's3backer-fstab-'));
  const mnt = join(work, 'mnt-type');
  await mkdir(mnt);
  await symlink(S3BACKER_BIN, link);
  try {
    const pid = await mountThroughFstab(`volume ${mnt} fuse.s3backer noauto,store=memory,size=1m 0 0`, mnt);
    assert.match(await readFile('/proc/self/mountinfo', 'utf8'), new RegExp(`${mnt} .* fuse\\.s3backer memory://`));
    await unmountAndWait(mnt, pid);
  } finally {
    if ((await mountedPaths()).has(mnt)) await runCommand('umount', ['-l', mnt]);
    await unlink(link).catch(() => undefined);
  }
});
