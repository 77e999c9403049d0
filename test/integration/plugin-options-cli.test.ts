import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { S3BACKER_BIN } from '../helpers/s3backer-process.js';
import { CMD, RawNbdClient } from '../helpers/nbd-raw-client.js';

/**
 * A third-party plugin as a user installs it: `node_modules/s3backer-plugin-xor` (an ESM package
 * that imports nothing of s3backer) named in `.s3backerrc.json`, its own option given on the real
 * command line (`--xorKey=7`). The volume is served over NBD from the directory store, so no root
 * and no FUSE are needed, and the stored objects are read from the disk: XORed with 7 and
 * recorded with Content-Encoding x-xor, so the option reached the plugin's apply().
 */

const XOR_PACKAGE = fileURLToPath(new URL('../../../test/fixtures/plugin-packages/s3backer-plugin-xor/', import.meta.url));
const BLOCK = 4096;

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 's3backer-plugin-options-cli-'));
});
after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** A directory like a user's: the package installed, a JSON config naming it. */
async function userDirectory(name: string, config: unknown, options: { install?: boolean } = {}): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir, { recursive: true });
  if (options.install !== false) await cp(XOR_PACKAGE, join(dir, 'node_modules', 's3backer-plugin-xor'), { recursive: true });
  if (config !== undefined) await writeFile(join(dir, '.s3backerrc.json'), JSON.stringify(config, null, 2));
  return dir;
}

interface Finished { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** `bin/s3backer ARGS` in `cwd`, to completion (killed after `timeoutMs`). */
function runIn(cwd: string, args: readonly string[], timeoutMs = 30_000): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(S3BACKER_BIN, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Connect to the export once the process serves it; fails with its output if it exits first. */
async function openWhenServed(socket: string, exited: Promise<unknown>, output: () => string, timeoutMs = 30_000) {
  let gone = false;
  void exited.then(() => { gone = true; });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (gone) throw new Error(`s3backer exited before serving:\n${output()}`);
    try {
      return await RawNbdClient.open({ path: socket });
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`no NBD export on ${socket} within ${timeoutMs} ms (${String(error)}):\n${output()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

test('--help run next to the config file lists the plugin\'s option', { timeout: 30_000 }, async () => {
  const dir = await userDirectory('help', { plugins: ['s3backer-plugin-xor'] });
  const result = await runIn(dir, ['--help']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /\nPlugin xor:\n  --xorKey=N +Byte every stored block body is XORed with\. \(default: 90\)\n/);
  // Elsewhere (no config file) the help has no plugin section.
  const plain = await runIn(await userDirectory('help-plain', undefined, { install: false }), ['--help']);
  assert.equal(plain.code, 0, plain.stderr);
  assert.doesNotMatch(plain.stdout, /Plugin xor|--xorKey/);
  // A config naming a package that is not installed: the built-in help, and one line saying why.
  const missing = await runIn(await userDirectory('help-missing', { plugins: ['s3backer-plugin-xor'] }, { install: false }), ['--help']);
  assert.equal(missing.code, 0, missing.stderr);
  assert.match(missing.stdout, /\nOptions of plugins are not listed: cannot find plugin package "s3backer-plugin-xor" .*npm install s3backer-plugin-xor.*\[S3B_CONFIG_FILE\]\n$/);
});

test('--xorKey=7 reaches the plugin: blocks are stored XORed with 7 and recorded as x-xor', { timeout: 90_000 }, async () => {
  const dir = await userDirectory('serve', { plugins: ['s3backer-plugin-xor'] });
  const store = join(dir, 'store');
  await mkdir(store);
  const socket = join(dir, 'x.sock');
  const child = spawn(S3BACKER_BIN, ['-f', '--test', '--size=1m', `--blockSize=${BLOCK}`, `--nbd-listen=unix:${socket}`, '--xorKey=7', 'store'],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => { output += chunk; });
  child.stderr.on('data', (chunk) => { output += chunk; });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const data = randomBytes(BLOCK);
  try {
    const { client, size } = await openWhenServed(socket, exited, () => output);
    assert.equal(size, 1n << 20n);
    try {
      client.request(CMD.WRITE, 2 * BLOCK, BLOCK, { data });
      assert.equal((await client.readReply()).error, 0);
      client.request(CMD.FLUSH, 0, 0);
      assert.equal((await client.readReply()).error, 0, 'the block is stored');
      client.request(CMD.READ, 2 * BLOCK, BLOCK);
      const read = await client.readReply();
      assert.equal(read.error, 0);
      assert.ok(read.data?.equals(data), 'reads decode what was written');
    } finally {
      await client.disconnect().catch(() => client.destroy());
    }
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await exited.finally(() => clearTimeout(timer));
    assert.equal(code, 0, output);
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  }
  assert.match(output, /\[xor\] XORing blocks with key 7 \(token x-xor\)/);

  // What the directory store holds: one block object (the mounted flag is gone after a clean stop).
  const objects = (await readdir(store)).filter((name) => !name.startsWith('.'));
  assert.equal(objects.length, 1, `one block object, got ${objects.join(', ')}`);
  const body = await readFile(join(store, objects[0]!));
  assert.ok(body.equals(Buffer.from(data.map((byte) => byte ^ 7))), 'the stored body is the data XORed with 7');
  const sidecar = JSON.parse(await readFile(join(store, '.s3backer-meta', `${objects[0]}.json`), 'utf8')) as { entries: Record<string, { contentEncoding?: string }> };
  assert.equal(sidecar.entries[createHash('md5').update(body).digest('hex')]?.contentEncoding, 'x-xor');
});

test('the plugin option is checked like a built-in one, and unknown where no plugin declares it', { timeout: 60_000 }, async () => {
  const dir = await userDirectory('errors', { plugins: ['s3backer-plugin-xor'] });
  const bad = await runIn(dir, ['-f', '--store=memory', '--size=1m', '--nbd-listen=unix:/nonexistent-directory/x.sock', '--xorKey=300', 'volume']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^s3backer: --xorKey=300: must be at most 255; fix the value \(see s3backer --help\) \[S3B_CONFIG_INVALID\]\n$/);
  const typo = await runIn(dir, ['-f', '--store=memory', '--size=1m', '--nbd-listen=unix:/nonexistent-directory/x.sock', '-o', 'xorkey=7', 'volume']);
  assert.match(typo.stderr, /unknown option "xorkey" in -o xorkey=7; did you mean "xorKey"\? \[S3B_CONFIG_UNKNOWN_OPTION\]/);
  const none = await runIn(await userDirectory('errors-plain', undefined, { install: false }), ['-f', '--store=memory', '--size=1m', '--xorKey=7', 'volume', '/mnt']);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /^s3backer: unknown option "--xorKey"; see s3backer --help for the list of options \[S3B_CONFIG_UNKNOWN_OPTION\]\n$/);
  const uninstalled = await runIn(await userDirectory('errors-missing', { plugins: ['s3backer-plugin-xor'] }, { install: false }), ['-f', '--store=memory', '--size=1m', 'volume', '/mnt']);
  assert.equal(uninstalled.code, 1);
  assert.match(uninstalled.stderr, /cannot find plugin package "s3backer-plugin-xor" .*: install it there with `npm install s3backer-plugin-xor`.*\[S3B_CONFIG_FILE\]/);
});
