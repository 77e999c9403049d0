import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, open, readFile, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsCommand } from '@aws-sdk/client-s3';
import { s3rverClient } from '../helpers/s3rver-client.js';
import { startS3rver, s3rverFlags, type S3rverServer } from '../helpers/s3rver-server.js';
import { S3backerProcess } from '../helpers/s3backer-process.js';
import { skipUnlessFuse } from '../helpers/fuse-support.js';
import { mustRun, runCommand } from '../helpers/run-command.js';
import { attachLoop } from '../helpers/loop-device.js';
import { writeTree, hashTree, sha256 } from '../helpers/file-tree.js';


async function blockKeys(server: S3rverServer): Promise<string[]> {
  const s3 = s3rverClient(server);
  try {
    return ((await s3.send(new ListObjectsCommand({ Bucket: 'disk', Prefix: 'vol/' }))).Contents ?? []).map((object) => object.Key!);
  } finally {
    s3.destroy();
  }
}

async function killHard(proc: S3backerProcess): Promise<void> {
  proc.child.kill('SIGKILL');
  await proc.exited;
  // The dead process's FUSE mount is left behind, as after any crash: detach it.
  await runCommand('umount', ['-l', proc.mountPoint]);
}

test('kill -9 with a cache file: writes acknowledged but not yet uploaded are recovered by the next mount, without --force', { timeout: 120_000 }, async (t) => {
  if (skipUnlessFuse(t)) return;
  const server = await startS3rver({ buckets: ['disk'] });
  const work = await mkdtemp(join(tmpdir(), 's3backer-crash-'));
  const mnt = join(work, 'mnt');
  await mkdir(mnt);
  const args = [...s3rverFlags(server), '--prefix=vol/',
    '--size=64m', '--blockSize=64k', `--blockCacheFile=${join(work, 'cache')}`, '--blockCacheWriteDelay=60000', '--directIO', 'disk'];
  const data = randomBytes(4 << 20);
  let proc: S3backerProcess | undefined;
  try {
    proc = await S3backerProcess.start(mnt, args);
    // --directIO: each write reaches s3backer, and its success means s3backer acknowledged it. The
    // file stays open: closing it would flush (and upload) everything, as close() must.
    const disk = await open(join(mnt, 'file'), 'r+');
    for (let at = 0; at < data.length; at += 65536) await disk.write(data, at, 65536, 16 * 65536 + at);
    await killHard(proc);
    await disk.close().catch(() => {});
    assert.deepEqual((await blockKeys(server)).filter((key) => /\/[0-9a-f]{8}$/.test(key)), [], 'nothing was uploaded before the crash (60 s write delay)');
    assert.ok((await blockKeys(server)).includes('vol/s3backer-mounted'), 'the crashed mount left its flag');

    proc = await S3backerProcess.start(mnt, args);
    assert.match(proc.output, /recognised as our own earlier mount/);
    assert.match(proc.output, /recovering 64 dirty blocks/);
    const back = await readFile(join(mnt, 'file'));
    assert.equal(sha256(back.subarray(16 * 65536, 16 * 65536 + data.length)), sha256(data));
    assert.equal(await proc.unmount(), 0, proc.output);
    const keys = await blockKeys(server);
    assert.equal(keys.filter((key) => /\/[0-9a-f]{8}$/.test(key)).length, 64, 'every recovered block is stored');
    assert.ok(!keys.includes('vol/s3backer-mounted'), 'a clean unmount clears the flag');
  } finally {
    await proc?.kill();
    await server.stop();
    await rm(work, { recursive: true, force: true });
  }
});

test('kill -9 during writes to ext4 with a cache file: after recovery e2fsck is clean and every synced file has its sha256', { timeout: 180_000 }, async (t) => {
  if (skipUnlessFuse(t, { loop: true })) return;
  const server = await startS3rver({ buckets: ['disk'] });
  const work = await mkdtemp(join(tmpdir(), 's3backer-crash-ext4-'));
  const fuseDir = join(work, 'fuse');
  const fsDir = join(work, 'ext4');
  await Promise.all([mkdir(fuseDir), mkdir(fsDir)]);
  const args = [...s3rverFlags(server), '--prefix=vol/',
    '--size=64m', '--blockSize=16k', `--blockCacheFile=${join(work, 'cache')}`, '--blockCacheWriteDelay=2000', 'disk'];
  const diskFile = join(fuseDir, 'file');
  let proc: S3backerProcess | undefined;
  let device: string | undefined;
  let ext4Mounted = false;
  const detach = async () => {
    if (ext4Mounted) await runCommand('umount', ['-l', fsDir]);
    ext4Mounted = false;
    if (device) await runCommand('losetup', ['-d', device]);
    device = undefined;
  };
  try {
    proc = await S3backerProcess.start(fuseDir, args);
    await mustRun('mkfs.ext4', ['-q', '-F', '-E', 'nodiscard', diskFile]);
    device = await attachLoop(diskFile);
    await mustRun('mount', [device, fsDir]);
    ext4Mounted = true;
    const synced = await writeTree(fsDir, 24, 'synced');
    await mustRun('sync', []);

    // More writes, none of them synced; the process dies in the middle of them.
    let writing = true;
    const more = (async () => {
      for (let round = 0; writing; round++) await writeTree(join(fsDir, `more${round}`), 12, 'more').catch(() => { writing = false; });
    })();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await killHard(proc);
    writing = false;
    await more;
    await detach();

    proc = await S3backerProcess.start(fuseDir, args);
    t.diagnostic(proc.output.split('\n').filter((line) => /recover|recognised/.test(line)).join(' | '));
    device = await attachLoop(diskFile);
    // Mounting replays ext4's journal, as after any power cut; then the check must be clean.
    await mustRun('mount', [device, fsDir]);
    ext4Mounted = true;
    await mustRun('umount', [fsDir]);
    ext4Mounted = false;
    const fsck = await runCommand('e2fsck', ['-fn', device]);
    assert.equal(fsck.code, 0, `e2fsck after recovery:\n${fsck.stdout}${fsck.stderr}`);
    await mustRun('mount', [device, fsDir]);
    ext4Mounted = true;
    const found = await hashTree(fsDir);
    for (const [path, sum] of synced) assert.equal(found.get(path), sum, `${path} was covered by sync`);
    await detach();
    assert.equal(await proc.unmount(), 0, proc.output);
  } finally {
    await detach().catch(() => {});
    await proc?.kill();
    await server.stop();
    await rm(work, { recursive: true, force: true });
  }
});

test('a store that hangs at unmount: exit 1 after --shutdownTimeout, the blocks stay in the cache file and the next mount stores them', { timeout: 120_000 }, async (t) => {
  if (skipUnlessFuse(t)) return;
  const server = await startS3rver({ buckets: ['disk'] });
  const work = await mkdtemp(join(tmpdir(), 's3backer-hung-'));
  const mnt = join(work, 'mnt');
  await mkdir(mnt);
  const cache = join(work, 'cache');
  const args = [...s3rverFlags(server), '--prefix=vol/',
    '--size=64m', '--blockSize=64k', `--blockCacheFile=${cache}`, '--blockCacheWriteDelay=60000', '--directIO',
    '--timeout=1', '--maxRetryPause=500', '--shutdownTimeout=3', 'disk'];
  const data = randomBytes(1 << 20);
  let proc: S3backerProcess | undefined;
  try {
    proc = await S3backerProcess.start(mnt, args);
    const disk = await open(join(mnt, 'file'), 'r+');
    await disk.write(data, 0, data.length, 0);
    server.pause();
    // close() flushes: it cannot succeed now, and says so.
    await assert.rejects(disk.close(), /EIO|input\/output/i);
    const started = Date.now();
    assert.equal(await proc.unmount(), 1, proc.output);
    const elapsed = Date.now() - started;
    t.diagnostic(`exit 1 after ${elapsed} ms; ${proc.output.split('\n').filter((line) => /dirty blocks could not/.test(line)).join(' ')}`);
    assert.ok(elapsed < 30_000, `bounded by --shutdownTimeout (took ${elapsed} ms)`);
    assert.match(proc.output, new RegExp(`16 dirty blocks could not be stored before unmount .*kept in ${cache.replace(/[/.]/g, '\\$&')}`));
    server.resume();

    proc = await S3backerProcess.start(mnt, args);
    assert.match(proc.output, /recovering 16 dirty blocks/);
    const back = await readFile(join(mnt, 'file'));
    assert.equal(sha256(back.subarray(0, data.length)), sha256(data));
    assert.equal(await proc.unmount(), 0, proc.output);
    assert.equal((await blockKeys(server)).filter((key) => /\/[0-9a-f]{8}$/.test(key)).length, 16);
  } finally {
    server.resume();
    await proc?.kill();
    await server.stop();
    await rm(work, { recursive: true, force: true });
  }
});
