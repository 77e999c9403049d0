import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, stat, readFile, readdir, unlink, open } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startS3rver, s3rverFlags } from '../helpers/s3rver-server.js';
import { S3backerProcess, runS3backer, processAlive } from '../helpers/s3backer-process.js';
import { fuseUnavailableReason, skipUnlessFuse } from '../helpers/fuse-support.js';
import { mountedPaths } from '../../src/frontends/fuse/mount-table.js';
import { runCommand } from '../helpers/run-command.js';

let server: Awaited<ReturnType<typeof startS3rver>> | undefined;
let work: string;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 's3backer-fuse-'));
  if (!fuseUnavailableReason()) server = await startS3rver({ buckets: ['disk'] });
});
after(async () => {
  await server?.stop();
  await rm(work, { recursive: true, force: true });
});

const s3 = () => s3rverFlags(server!);
async function mountDir(name: string): Promise<string> {
  const path = join(work, name);
  await mkdir(path, { recursive: true });
  return path;
}

test('the mount shows the disk file and the stats file; data written through it reads back', async (t) => {
  if (skipUnlessFuse(t)) return;
  const mnt = await mountDir('basic');
  const proc = await S3backerProcess.start(mnt, ['--store=memory', '--size=4m', '--blockSize=64k', '--filename=disk.img', '--fileMode=0640', 'any']);
  try {
    assert.deepEqual((await readdir(mnt)).sort(), ['disk.img', 'stats']);
    const info = await stat(join(mnt, 'disk.img'));
    assert.equal(info.size, 4 << 20);
    assert.equal(info.mode & 0o7777, 0o640);
    const data = randomBytes(300_000);
    const handle = await open(join(mnt, 'disk.img'), 'r+');
    await handle.write(data, 0, data.length, 12345);
    await handle.sync();
    const back = Buffer.alloc(data.length);
    await handle.read(back, 0, back.length, 12345);
    assert.ok(back.equals(data));
    // A disk cannot grow: a write at its end has no space.
    await assert.rejects(handle.write(Buffer.from('x'), 0, 1, 4 << 20), /ENOSPC/);
    await handle.close();
    const stats = await readFile(join(mnt, 'stats'), 'utf8');
    assert.match(stats, /^zero_block_cache_size {8}\d+ blocks$/m, 'C format: %-28s %s');
    await unlink(join(mnt, 'stats'));
    assert.match(await readFile(join(mnt, 'stats'), 'utf8'), /^zero_block_cache_read_hits\s+0$/m, 'unlinking the stats file resets counters');
  } finally {
    assert.equal(await proc.unmount(), 0, proc.output);
    await proc.kill();
  }
});

test('--readOnly: mode 0400, writes fail with EROFS', async (t) => {
  if (skipUnlessFuse(t)) return;
  const mnt = await mountDir('ro');
  const setup = await S3backerProcess.start(mnt, [...s3(), '--size=1m', 'disk/ro']);
  await runCommand('dd', ['if=/dev/urandom', `of=${join(mnt, 'file')}`, 'bs=4k', 'count=4', 'conv=notrunc']);
  assert.equal(await setup.unmount(), 0, setup.output);
  const proc = await S3backerProcess.start(mnt, [...s3(), '--readOnly', 'disk/ro']);
  try {
    assert.equal((await stat(join(mnt, 'file'))).mode & 0o777, 0o400);
    await assert.rejects(open(join(mnt, 'file'), 'r+'), /EROFS/);
    const handle = await open(join(mnt, 'file'), 'r');
    const { bytesRead } = await handle.read(Buffer.alloc(4096), 0, 4096, 0);
    assert.equal(bytesRead, 4096);
    await handle.close();
  } finally {
    assert.equal(await proc.unmount(), 0, proc.output);
    await proc.kill();
  }
});

test('SIGTERM unmounts, clears the mounted flag and exits 0; a new process mounts at once', async (t) => {
  if (skipUnlessFuse(t)) return;
  const mnt = await mountDir('sigterm');
  const proc = await S3backerProcess.start(mnt, [...s3(), '--size=1m', 'disk/sig']);
  const data = randomBytes(8192);
  const handle = await open(join(mnt, 'file'), 'r+');
  await handle.write(data, 0, data.length, 4096);
  await handle.close();
  proc.child.kill('SIGTERM');
  assert.equal(await proc.waitForExit(), 0, proc.output);
  assert.ok(!(await mountedPaths()).has(mnt));
  const again = await S3backerProcess.start(mnt, [...s3(), '--size=1m', 'disk/sig']);
  try {
    const back = await readFile(join(mnt, 'file'));
    assert.ok(back.subarray(4096, 4096 + 8192).equals(data));
  } finally {
    assert.equal(await again.unmount(), 0, again.output);
    await again.kill();
  }
});

test('without -f, s3backer returns once mounted and serves from the background until unmounted', async (t) => {
  if (skipUnlessFuse(t)) return;
  const mnt = await mountDir('daemon');
  const result = await runS3backer([...s3(), '--size=1m', 'disk/daemon', mnt], { timeoutMs: 30_000 });
  assert.equal(result.code, 0, result.stderr);
  const pid = Number(/s3backer process (\d+) for .* started/.exec(result.stderr)?.[1]);
  try {
    assert.ok(pid > 0, `the background process announces its pid:\n${result.stderr}`);
    assert.ok((await mountedPaths()).has(mnt));
    assert.equal((await stat(join(mnt, 'file'))).size, 1 << 20);
    await runCommand('umount', [mnt]);
    for (let i = 0; i < 200 && processAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(!processAlive(pid), 'the background process exits after unmount');
  } finally {
    // Never leave a daemon or a mount behind, whatever failed above.
    if ((await mountedPaths()).has(mnt)) await runCommand('umount', ['-l', mnt]);
    if (pid > 0 && processAlive(pid)) process.kill(pid, 'SIGKILL');
  }
});

test('fallocate --punch-hole zeroes the range and deletes whole blocks\' objects; read-only refuses it', async (t) => {
  if (skipUnlessFuse(t)) return;
  const mnt = await mountDir('punch');
  const volume = join(work, 'punch-store');
  await mkdir(volume);
  const args = ['--test', '--size=1m', '--blockSize=4k', volume];
  const proc = await S3backerProcess.start(mnt, args);
  const file = join(mnt, 'file');
  const blocks = async () => (await readdir(volume)).filter((name) => /^[0-9a-f]{8}$/.test(name)).length;
  try {
    const data = randomBytes(8 * 4096);
    const handle = await open(file, 'r+');
    await handle.write(data, 0, data.length, 0);
    await handle.sync();
    await handle.close();
    assert.equal(await blocks(), 8);
    // Bytes 1000..(5*4096+100): blocks 1-4 are whole (deleted), blocks 0 and 5 are zero-filled at the edges.
    const punch = await runCommand('fallocate', ['--punch-hole', '--offset', '1000', '--length', String(5 * 4096 + 100 - 1000), file]);
    assert.equal(punch.code, 0, punch.stderr);
    const back = await readFile(file);
    const expected = Buffer.from(data);
    expected.fill(0, 1000, 5 * 4096 + 100);
    assert.ok(back.subarray(0, data.length).equals(expected));
    assert.equal(await blocks(), 4, 'blocks 0, 5, 6, 7 remain');
  } finally {
    assert.equal(await proc.unmount(), 0, proc.output);
    await proc.kill();
  }
  const readOnly = await S3backerProcess.start(mnt, ['--readOnly', ...args]);
  try {
    const punch = await runCommand('fallocate', ['--punch-hole', '--offset', '0', '--length', '4096', file]);
    assert.notEqual(punch.code, 0);
    assert.match(punch.stderr, /read-only|Bad file descriptor|Permission denied/i);
    assert.equal(await blocks(), 4);
  } finally {
    assert.equal(await readOnly.unmount(), 0, readOnly.output);
    await readOnly.kill();
  }
});

test('the server vanishing before unmount ends in a clear error and exit 1 after the retry budget', async (t) => {
  if (skipUnlessFuse(t)) return;
  const own = await startS3rver({ buckets: ['gone'] });
  const mnt = await mountDir('outage');
  const proc = await S3backerProcess.start(mnt, [`--baseURL=${own.endpoint}`, `--accessId=${own.accessId}`, `--accessKey=${own.accessKey}`, '--size=1m', '--maxRetryPause=1000', 'gone']);
  try {
    await own.stop();
    const started = Date.now();
    assert.equal(await proc.unmount(), 1, proc.output);
    assert.ok(Date.now() - started < 15_000, 'bounded by --maxRetryPause');
    assert.match(proc.output, /shutdown failed: .*cannot reach http:\/\/127\.0\.0\.1:\d+\/ .*is the server running\?/);
  } finally {
    await proc.kill();
  }
});

test('--statsFileMirror keeps a copy of the stats file outside the mount, with the same lines', { timeout: 60_000 }, async (t) => {
  if (skipUnlessFuse(t)) return;
  const mnt = await mountDir('mirror');
  const mirror = join(work, 'mirror-stats.txt');
  const proc = await S3backerProcess.start(mnt, ['--store=memory', '--size=1m', `--statsFileMirror=${mirror}`, '--statsFileMirrorInterval=50', 'any']);
  try {
    await runCommand('dd', ['if=/dev/urandom', `of=${join(mnt, 'file')}`, 'bs=4k', 'count=2', 'conv=notrunc,fsync']);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const text = await readFile(mirror, 'utf8');
    assert.match(text, /^zero_block_cache_size {8}\d+ blocks$/m, 'the C format, as in the stats file');
    assert.deepEqual(text.split('\n').map((line) => line.split(/\s+/)[0]), (await readFile(join(mnt, 'stats'), 'utf8')).split('\n').map((line) => line.split(/\s+/)[0]), 'the same lines');
  } finally {
    assert.equal(await proc.unmount(), 0, proc.output);
    await proc.kill();
  }
});
