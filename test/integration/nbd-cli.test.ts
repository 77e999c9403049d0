import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { startS3rver, s3rverFlags, type S3rverServer } from '../helpers/s3rver-server.js';
import { s3rverClient } from '../helpers/s3rver-client.js';
import { S3BACKER_BIN, runS3backer, processAlive } from '../helpers/s3backer-process.js';
import { runCommand } from '../helpers/run-command.js';

/**
 * The NBD front end as a user runs it: `s3backer --nbd-listen=… bucket` against a real S3 server
 * (s3rver), used by Debian's own NBD clients (nbdinfo, nbdcopy), stopped by a signal. The protocol
 * itself is tested in nbd-*.test.ts with an in-process engine; this is the process around it.
 */
const NBD_TOOLS = ['nbdinfo', 'nbdcopy'];
const missing = NBD_TOOLS.filter((tool) => !['/usr/bin', '/usr/local/bin', '/bin'].some((dir) => existsSync(join(dir, tool))));
const skip = missing.length > 0 ? `${missing.join(', ')} not installed (apt-get install libnbd-bin)` : undefined;
if (skip) console.log(`# skipping the NBD command-line tests: ${skip}`);

let server: S3rverServer;
let work: string;
let buckets = 0;
before(async () => {
  server = await startS3rver();
  work = await mkdtemp(join(tmpdir(), 's3backer-nbd-cli-'));
});
after(async () => {
  await server?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

const SIZE = 8 * 1024 * 1024;
async function newBucket(): Promise<string> {
  const bucket = `nbd-${++buckets}`;
  await server.createBucket(bucket);
  return bucket;
}

/** A foreground `s3backer --nbd-listen`, with its output collected. */
class NbdProcess {
  output = '';
  readonly exited: Promise<number | null>;
  constructor(readonly child: ChildProcess) {
    child.stdout!.on('data', (chunk) => { this.output += chunk; });
    child.stderr!.on('data', (chunk) => { this.output += chunk; });
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }
  static start(args: string[]): NbdProcess {
    return new NbdProcess(spawn(S3BACKER_BIN, ['-f', ...args], { stdio: ['ignore', 'pipe', 'pipe'] }));
  }
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}

/** Wait until `uri` answers an NBD handshake (nbdinfo succeeds), or the process exits. */
async function waitForExport(proc: NbdProcess, uri: string, timeoutMs = 30_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void proc.exited.then(() => { exited = true; });
  let last = '';
  while (Date.now() < deadline) {
    if (exited) throw new Error(`s3backer exited before serving:\n${proc.output}`);
    const info = await runCommand('nbdinfo', ['--json', uri], { timeoutMs: 10_000 });
    if (info.code === 0) return JSON.parse(info.stdout) as Record<string, unknown>;
    last = info.stderr;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${uri} did not answer within ${timeoutMs} ms (${last}):\n${proc.output}`);
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const exportOf = (info: Record<string, unknown>) => (info.exports as Array<Record<string, unknown>>)[0]!;

test('--nbd-listen=unix: serves the volume to nbdcopy; SIGTERM drains, clears the mounted flag and exits 0; a new process serves the same bytes', { skip, timeout: 120_000 }, async () => {
  const bucket = await newBucket();
  const socket = join(work, 'unix.sock');
  const uri = `nbd+unix:///?socket=${socket}`;
  const image = join(work, 'image');
  const content = randomBytes(SIZE);
  content.fill(0, 2 * 1024 * 1024, 3 * 1024 * 1024); // a zero stretch: elided blocks, read back as zeros
  await writeFile(image, content);
  const flags = [...s3rverFlags(server), `--size=${SIZE}`, '--blockSize=64k', `--nbd-listen=unix:${socket}`, bucket];
  let proc = NbdProcess.start(flags);
  try {
    const info = exportOf(await waitForExport(proc, uri));
    assert.equal(info['export-size'], SIZE);
    assert.equal(info['block_size_preferred'], 65536);
    assert.equal(info['is_read_only'], false);
    const copied = await runCommand('nbdcopy', [image, uri], { timeoutMs: 60_000 });
    assert.equal(copied.code, 0, copied.stderr);
    proc.child.kill('SIGTERM');
    assert.equal(await proc.exited, 0, proc.output);
    assert.ok(!existsSync(socket), 'the socket file is removed');
    // The mounted flag was cleared: a new process serves it without --force.
    await assert.rejects(s3rverClient(server).send(new HeadObjectCommand({ Bucket: bucket, Key: 's3backer-mounted' })));

    proc = NbdProcess.start(flags.map((flag) => (flag.startsWith('--size=') ? '--readOnly' : flag)));
    assert.equal(exportOf(await waitForExport(proc, uri))['is_read_only'], true, 'size auto-detected, read-only');
    const out = join(work, 'out');
    const back = await runCommand('nbdcopy', [uri, out], { timeoutMs: 60_000 });
    assert.equal(back.code, 0, back.stderr);
    assert.equal(sha256(await readFile(out)), sha256(content));
    proc.child.kill('SIGINT');
    assert.equal(await proc.exited, 0, proc.output);
  } finally {
    await proc.kill();
  }
});

test('--nbd-listen=127.0.0.1:PORT serves over TCP; a second s3backer on the same volume is refused (mounted flag)', { skip, timeout: 120_000 }, async () => {
  const bucket = await newBucket();
  const port = await freePort();
  const uri = `nbd://127.0.0.1:${port}/${bucket}`;
  const proc = NbdProcess.start([...s3rverFlags(server), `--size=${SIZE}`, `--nbd-listen=127.0.0.1:${port}`, bucket]);
  try {
    const info = exportOf(await waitForExport(proc, uri));
    assert.equal(info['export-name'], bucket, 'the export is named after the volume');
    assert.equal(info['export-size'], SIZE);
    const second = await runS3backer(['-f', ...s3rverFlags(server), `--size=${SIZE}`, `--nbd-listen=unix:${join(work, 'second.sock')}`, bucket], { timeoutMs: 30_000 });
    assert.equal(second.code, 1);
    assert.match(second.stderr, /S3B_MOUNTED_ELSEWHERE/);
    proc.child.kill('SIGTERM');
    assert.equal(await proc.exited, 0, proc.output);
  } finally {
    await proc.kill();
  }
});

test('without -f, --nbd-listen returns once the export is served and the background process stops on SIGTERM', { skip, timeout: 120_000 }, async () => {
  const bucket = await newBucket();
  const socket = join(work, 'background.sock');
  const result = await runS3backer([...s3rverFlags(server), `--size=${SIZE}`, `--nbd-listen=unix:${socket}`, bucket], { timeoutMs: 30_000 });
  const pid = Number(/s3backer process (\d+) for unix:\S+ started/.exec(result.stderr)?.[1]);
  try {
    assert.equal(result.code, 0, result.stderr);
    assert.ok(pid > 0, result.stderr);
    assert.ok((await stat(socket)).isSocket());
    const info = await runCommand('nbdinfo', ['--size', `nbd+unix:///?socket=${socket}`], { timeoutMs: 10_000 });
    assert.equal(info.stdout.trim(), String(SIZE), info.stderr);
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 300 && processAlive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok(!processAlive(pid), 'the background process exited');
    assert.ok(!existsSync(socket));
  } finally {
    if (pid > 0 && processAlive(pid)) process.kill(pid, 'SIGKILL');
  }
});

test('--nbd where the kernel has no such NBD device says so, and leaves no mounted flag behind', { timeout: 60_000 }, async (t) => {
  const device = '/dev/nbd99';
  if (existsSync(device)) return t.skip(`${device} exists here; this test is about a kernel without it`);
  if (process.getuid?.() !== 0) return t.skip('--nbd needs root (it refuses otherwise, tested by the message below only as root)');
  const bucket = await newBucket();
  const result = await runS3backer(['-f', ...s3rverFlags(server), `--size=${SIZE}`, '--nbd', bucket, device], { timeoutMs: 30_000 });
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /\/dev\/nbd99 does not exist: this kernel has no NBD devices .* --nbd-listen=unix:/);
  assert.match(result.stderr, /\[S3B_NBD_DEVICE\]/);
  await assert.rejects(s3rverClient(server).send(new HeadObjectCommand({ Bucket: bucket, Key: 's3backer-mounted' })));
});

test('--nbd bucket /dev/nbd0: ext4 on the kernel device survives a new process; SIGTERM waits while it is mounted', { timeout: 180_000 }, async (t) => {
  const device = '/dev/nbd0';
  if (process.getuid?.() !== 0) return t.skip('--nbd needs root');
  if (!existsSync(device)) return t.skip(`${device} does not exist: this kernel has no nbd module loaded (modprobe nbd; containers usually cannot)`);
  if (!existsSync('/usr/sbin/nbd-client') && !existsSync('/sbin/nbd-client')) return t.skip('nbd-client not installed (apt-get install nbd-client)');
  const bucket = await newBucket();
  const mnt = await mkdtemp(join(work, 'mnt-'));
  const flags = [...s3rverFlags(server), '--size=64m', '--blockSize=64k', '--nbd', bucket, device];
  const attached = async (proc: NbdProcess) => {
    for (let i = 0; i < 300; i++) {
      if (proc.child.exitCode !== null) throw new Error(`s3backer exited:\n${proc.output}`);
      if (Number((await readFile('/sys/block/nbd0/size', 'utf8').catch(() => '0')).trim()) > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`${device} not attached:\n${proc.output}`);
  };
  let proc = NbdProcess.start(flags);
  const data = randomBytes(3 * 1024 * 1024);
  try {
    await attached(proc);
    assert.equal((await runCommand('mkfs.ext4', ['-q', '-F', device], { timeoutMs: 60_000 })).code, 0);
    assert.equal((await runCommand('mount', [device, mnt])).code, 0);
    await writeFile(join(mnt, 'data'), data);
    proc.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(proc.child.exitCode, null, 'still serving while ext4 is mounted on it');
    assert.match(proc.output, /\/dev\/nbd0 is still in use/);
    assert.equal((await runCommand('umount', [mnt])).code, 0);
    assert.equal(await proc.exited, 0, proc.output);

    proc = NbdProcess.start(flags);
    await attached(proc);
    assert.equal((await runCommand('e2fsck', ['-fn', device], { timeoutMs: 60_000 })).code, 0);
    assert.equal((await runCommand('mount', [device, mnt])).code, 0);
    assert.equal(sha256(await readFile(join(mnt, 'data'))), sha256(data));
    assert.equal((await runCommand('umount', [mnt])).code, 0);
    proc.child.kill('SIGTERM');
    assert.equal(await proc.exited, 0, proc.output);
  } finally {
    await runCommand('umount', [mnt]);
    await runCommand('nbd-client', ['-d', device]);
    await proc.kill();
  }
});
