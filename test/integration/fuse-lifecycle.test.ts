import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, readFile, rm, open, type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { sha256 } from '../helpers/file-tree.js';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startS3rver, s3rverFlags } from '../helpers/s3rver-server.js';
import { S3backerProcess } from '../helpers/s3backer-process.js';
import { skipUnlessFuse } from '../helpers/fuse-support.js';
import { mustRun, runCommand } from '../helpers/run-command.js';
import { attachLoop } from '../helpers/loop-device.js';
import { mountedPaths } from '../../src/frontends/fuse/mount-table.js';
import { diskHolders } from '../../src/frontends/fuse/disk-holders.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How long the process may take to finish (drain, flush, clear the flag) once the disk is released. */
const EXIT_AFTER_RELEASE_MS = 30_000;

/** Resolves to the exit code, or to 'timeout' if the process is still running after `ms`. */
async function exitWithin(proc: S3backerProcess, ms: number): Promise<number | null | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), ms); });
  try {
    return await Promise.race([proc.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * ext4 on a loop device over the disk file; the FUSE mount is released (`umount -l`, or SIGTERM
 * to s3backer) while the loop device still holds the file. s3backer must keep serving: a file
 * written and synced afterwards survives, and the process exits 0 only once `losetup -d` has
 * really let go of the disk.
 */
async function releaseUnderLoopDevice(t: TestContext, release: 'umount -l' | 'SIGTERM'): Promise<void> {
  const server = await startS3rver({ buckets: ['disk'] });
  const work = await mkdtemp(join(tmpdir(), 's3backer-lifecycle-'));
  const fuseDir = join(work, 'fuse');
  const fsDir = join(work, 'ext4');
  await mkdir(fuseDir);
  await mkdir(fsDir);
  const diskFile = join(fuseDir, 'file');
  const args = [...s3rverFlags(server), '--prefix=vol/', 'disk'];
  let proc: S3backerProcess | undefined;
  let loop: string | undefined;
  let ext4Mounted = false;
  try {
    proc = await S3backerProcess.start(fuseDir, ['--size=64m', '--blockSize=64k', ...args]);
    loop = await attachLoop(diskFile);
    await mustRun('mkfs.ext4', ['-q', '-F', '-E', 'nodiscard', loop]);
    await mustRun('mount', ['-t', 'ext4', loop, fsDir]);
    ext4Mounted = true;
    const fileA = randomBytes(3 << 20);
    await writeFile(join(fsDir, 'a.bin'), fileA);
    await mustRun('sync', []);

    if (release === 'umount -l') await mustRun('umount', ['-l', fuseDir]);
    else proc.child.kill('SIGTERM');
    await sleep(2000);
    assert.equal(proc.child.exitCode, null, `s3backer must keep serving while ${loop} holds the disk; output:\n${proc.output}`);
    assert.equal(proc.child.signalCode, null, proc.output);
    if (release === 'SIGTERM') {
      assert.ok(proc.output.includes(`${diskFile} is still in use by ${loop} `), `the log names the loop device holding the disk; output:\n${proc.output}`);
    }

    const fileB = randomBytes(2 << 20);
    await writeFile(join(fsDir, 'b.bin'), fileB);
    await mustRun('sync', []);
    await mustRun('umount', [fsDir]);
    ext4Mounted = false;
    await mustRun('losetup', ['-d', loop]);
    loop = undefined;
    const released = Date.now();
    const code = await exitWithin(proc, EXIT_AFTER_RELEASE_MS);
    assert.equal(code, 0, `s3backer exits 0 once the loop device is detached; output:\n${proc.output}`);
    t.diagnostic(`${release}: exited ${Date.now() - released} ms after losetup -d`);

    // A new process on the same bucket (size from block 0): a clean ext4 holding A and B.
    proc = await S3backerProcess.start(fuseDir, args);
    loop = await attachLoop(diskFile);
    const fsck = await runCommand('e2fsck', ['-fn', loop]);
    assert.equal(fsck.code, 0, `e2fsck -fn ${loop}:\n${fsck.stdout}${fsck.stderr}`);
    await mustRun('mount', ['-t', 'ext4', '-o', 'ro', loop, fsDir]);
    ext4Mounted = true;
    assert.equal(sha256(await readFile(join(fsDir, 'a.bin'))), sha256(fileA), 'file A, written before the release');
    assert.equal(sha256(await readFile(join(fsDir, 'b.bin'))), sha256(fileB), 'file B, written after the release');
    await mustRun('umount', [fsDir]);
    ext4Mounted = false;
    await mustRun('losetup', ['-d', loop]);
    loop = undefined;
    assert.equal(await proc.unmount(), 0, proc.output);
  } finally {
    // ext4 first (while s3backer still serves it), then the loop device by name, then the process by PID.
    if (ext4Mounted) await runCommand('umount', [fsDir], { timeoutMs: 30_000 });
    if (loop) await runCommand('losetup', ['-d', loop], { timeoutMs: 30_000 });
    await proc?.kill();
    await server.stop();
    await rm(work, { recursive: true, force: true });
  }
}

test('umount -l of the FUSE mount under a loop device: s3backer serves until losetup -d, then exits 0; nothing is lost', { timeout: 180_000 }, async (t) => {
  if (skipUnlessFuse(t, { loop: true })) return;
  await releaseUnderLoopDevice(t, 'umount -l');
});

test('SIGTERM under a loop device: s3backer names the loop device, serves until losetup -d, then exits 0; nothing is lost', { timeout: 180_000 }, async (t) => {
  if (skipUnlessFuse(t, { loop: true })) return;
  await releaseUnderLoopDevice(t, 'SIGTERM');
});

/**
 * A bare mount of the vendored fuse-native in its own process (so a regression that never ends
 * the loop cannot keep the test process alive): prints `mounted`, then `loop-ended` from the
 * onLoopEnded option, then exits by itself because the ended mount no longer holds its event loop.
 */
const BARE_FUSE = `
const Fuse = require(process.argv[1]);
const now = new Date();
const stat = (mode, size) => ({ mode, size, uid: 0, gid: 0, nlink: 1, atime: now, mtime: now, ctime: now });
const fuse = new Fuse(process.argv[2], {
  getattr: (path, cb) => (path === '/' ? cb(0, stat(0o40755, 4096)) : path === '/file' ? cb(0, stat(0o100600, 4096)) : cb(-2)),
  readdir: (path, cb) => cb(0, ['file']),
  open: (path, flags, cb) => cb(0, 1),
  release: (path, fd, cb) => cb(0),
  read: (path, fd, buffer, length, position, cb) => cb(0),
}, { timeout: false, onLoopEnded: () => console.log('loop-ended') });
fuse.mount((error) => { if (error) throw error; console.log('mounted'); });
`;

test('the vendored fuse-native calls onLoopEnded only once the last open file of a lazily unmounted mount is released, then lets the process exit', { timeout: 60_000 }, async (t) => {
  if (skipUnlessFuse(t)) return;
  const work = await mkdtemp(join(tmpdir(), 's3backer-loop-ended-'));
  const mnt = join(work, 'mnt');
  await mkdir(mnt);
  const child = spawn(process.execPath, ['-e', BARE_FUSE, fileURLToPath(new URL('../../../vendor/fuse-native/index.js', import.meta.url)), mnt], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => { output += chunk; });
  child.stderr.on('data', (chunk) => { output += chunk; });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const until = async (done: () => boolean, ms: number) => {
    const deadline = Date.now() + ms;
    while (!done() && Date.now() < deadline) await sleep(10);
  };
  let handle: FileHandle | undefined;
  try {
    await until(() => output.includes('mounted') || child.exitCode !== null, 20_000);
    assert.ok(output.includes('mounted'), output);
    handle = await open(join(mnt, 'file'), 'r');
    await mustRun('umount', ['-l', mnt]);
    assert.ok(!(await mountedPaths()).has(mnt), 'a lazy unmount leaves the mount table at once');
    await sleep(1000);
    assert.ok(!output.includes('loop-ended'), `the FUSE loop keeps running while a file on the mount is open:\n${output}`);
    assert.equal(child.exitCode, null);
    await handle.close();
    handle = undefined;
    const released = Date.now();
    await until(() => output.includes('loop-ended'), 10_000);
    assert.ok(output.includes('loop-ended'), `the FUSE loop ends when the last open file is released:\n${output}`);
    t.diagnostic(`onLoopEnded ${Date.now() - released} ms after the last close`);
    const code = await Promise.race([exited, sleep(10_000).then(() => 'still running')]);
    assert.equal(code, 0, `nothing else holds the process's event loop:\n${output}`);
    assert.equal(output.match(/loop-ended/g)?.length, 1, 'onLoopEnded is called once');
  } finally {
    await handle?.close();
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    if ((await mountedPaths()).has(mnt)) await runCommand('umount', ['-l', mnt]);
    await rm(work, { recursive: true, force: true });
  }
});

test('diskHolders names the loop devices whose backing file is the given file, and no other', { timeout: 30_000 }, async (t) => {
  if (skipUnlessFuse(t, { loop: true })) return;
  const work = await mkdtemp(join(tmpdir(), 's3backer-holders-'));
  const file = join(work, 'disk');
  await writeFile(file, Buffer.alloc(1 << 20));
  let device: string | undefined;
  try {
    assert.deepEqual(await diskHolders(file), []);
    device = await attachLoop(file);
    assert.deepEqual(await diskHolders(file), [device]);
    assert.deepEqual(await diskHolders(join(work, 'other')), []);
  } finally {
    if (device) await runCommand('losetup', ['-d', device]);
    await rm(work, { recursive: true, force: true });
  }
});
