import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { startS3rver, s3rverFlags } from '../helpers/s3rver-server.js';
import { runS3backer, S3backerProcess } from '../helpers/s3backer-process.js';
import { skipUnlessFuse } from '../helpers/fuse-support.js';

let server: Awaited<ReturnType<typeof startS3rver>>;
let work: string;
let mnt: string;

before(async () => {
  server = await startS3rver({ buckets: ['disk'] });
  work = await mkdtemp(join(tmpdir(), 's3backer-cli-'));
  mnt = join(work, 'mnt');
  await mkdir(mnt);
});
after(async () => {
  await server.stop();
  await rm(work, { recursive: true, force: true });
});

const s3 = () => s3rverFlags(server);

/** A port on 127.0.0.1 that nothing listens on. */
async function deadPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

async function expectFailure(args: string[], message: RegExp, code: string) {
  const result = await runS3backer(['-f', ...args], { timeoutMs: 60_000 });
  assert.notEqual(result.code, 0, `must exit non-zero; stderr:\n${result.stderr}`);
  assert.match(result.stderr, message);
  assert.match(result.stderr, new RegExp(`\\[${code}\\]`));
  return result;
}

test('unknown flag names the closest valid one', async () => {
  await expectFailure(['--blocksize=4k', 'disk', '/mnt'], /unknown option "--blocksize".*did you mean "--blockSize"/, 'S3B_CONFIG_UNKNOWN_OPTION');
});

test('bad size is refused with the reason', async () => {
  await expectFailure(['--size=12q', 'disk', '/mnt'], /--size.*"12q" is not a size/, 'S3B_CONFIG_INVALID');
});

test('block size not a power of two is refused', async () => {
  await expectFailure([...s3(), '--size=1m', '--blockSize=3000', 'disk', mnt], /block size 3000 is not a power of two/, 'S3B_CONFIG_INVALID');
});

test('size not a multiple of the block size is refused with a suggestion', async () => {
  await expectFailure([...s3(), '--size=1000000', '--blockSize=4k', 'disk', mnt], /not a positive multiple of the block size 4k; pick a size such as --size=/, 'S3B_CONFIG_INVALID');
});

test('--ssl with an http:// --baseURL is refused before any request', async () => {
  await expectFailure(['--ssl', '--baseURL=http://127.0.0.1:1/', '--size=1m', 'disk', mnt], /--ssl requires an https:\/\/ endpoint/, 'S3B_CONFIG_INVALID');
});

test('missing bucket', async () => {
  await expectFailure([...s3(), '--size=1m', 'no-such-bucket', mnt], /bucket "?no-such-bucket"? does not exist/, 'S3B_BUCKET_NOT_FOUND');
});

test('unreachable endpoint gives up after the retry budget and names the endpoint', async () => {
  const port = await deadPort();
  const started = Date.now();
  await expectFailure([`--baseURL=http://127.0.0.1:${port}/`, '--accessId=x', '--accessKey=y', '--initialRetryPause=50', '--maxRetryPause=400', '--size=1m', 'disk', mnt],
    new RegExp(`127\\.0\\.0\\.1:${port}`), 'S3B_BACKEND_UNREACHABLE');
  assert.ok(Date.now() - started < 30_000, 'bounded by --maxRetryPause');
});

test('wrong credentials (unknown access key id) are refused', async () => {
  // s3rver checks the access key id but not the signature (s3rver 3.7.1), so the id is what is wrong here.
  await expectFailure([`--baseURL=${server.endpoint}`, '--accessId=NOT-A-KEY', '--accessKey=whatever', '--size=1m', 'disk', mnt], /NOT-A-KEY/, 'S3B_BACKEND_AUTH');
});

test('missing mount point', async () => {
  await expectFailure([...s3(), '--size=1m', 'disk', join(work, 'nope')], /mount point .*nope does not exist/, 'S3B_MOUNT_POINT');
});

test('missing mount point argument prints usage', async () => {
  await expectFailure([...s3(), 'disk'], /missing mount point.*usage: s3backer/i, 'S3B_USAGE');
});

test('a new volume without --size says how to give it', async () => {
  await expectFailure([...s3(), 'disk/empty', mnt], /cannot determine the disk size.*--size/, 'S3B_SIZE_REQUIRED');
});

test('bucket already mounted: the second mount is refused with the C tool\'s advice, and works after unmount', async (t) => {
  if (skipUnlessFuse(t)) return;
  const other = join(work, 'other');
  await mkdir(other, { recursive: true });
  const first = await S3backerProcess.start(mnt, [...s3(), '--size=1m', 'disk/busy']);
  try {
    const result = await expectFailure([...s3(), 'disk/busy', other], /appears to be already mounted by .* \(using mount token 0x[0-9a-f]{8}\).*--reset-mounted-flag.*--force/, 'S3B_MOUNTED_ELSEWHERE');
    assert.doesNotMatch(result.stderr, /unexpected/);
    assert.equal(await first.unmount(), 0, first.output);
    const second = await S3backerProcess.start(other, [...s3(), '--size=1m', 'disk/busy']);
    assert.equal(await second.unmount(), 0, second.output);
  } finally {
    await first.kill();
  }
});

test('--help and --version exit 0', async () => {
  const help = await runS3backer(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--blockSize=SIZE/);
  const version = await runS3backer(['--version']);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^s3backer version \d+\.\d+\.\d+/);
});

test('--debug logs each S3 request and mount step; --quiet hides progress messages', async () => {
  const debug = await runS3backer(['-f', ...s3(), '--debug', 'disk/logging', mnt]);
  assert.notEqual(debug.code, 0, 'no --size for a new volume');
  assert.match(debug.stderr, /DEBUG: opening s3 store /);
  assert.match(debug.stderr, /DEBUG: \[s3\] .*HEAD.*ok \(\d+\.\d ms\)/);
  assert.match(debug.stderr, /INFO: established new mount token/);
  const quiet = await runS3backer(['-f', ...s3(), '--quiet', 'disk/logging', mnt]);
  assert.doesNotMatch(quiet.stderr, /INFO:|DEBUG:/);
  assert.match(quiet.stderr, /\[S3B_SIZE_REQUIRED\]/, 'errors still print');
});

test('a --blockSize that differs from block 0 is refused; --force overrides with a warning', async () => {
  const dir = await mkdtemp(join(tmpdir(), 's3backer-geometry-'));
  try {
    // Create a 1 MiB volume of 4 KiB blocks in the dir store and write block 0 (its metadata) through the CLI's engine.
    const { Engine } = await import('../../src/engine/engine.js');
    const { applyOptions } = await import('../../src/cli/apply-options.js');
    const { testConfig } = await import('../helpers/test-config.js');
    const config = testConfig({ store: 'dir', bucket: dir, size: 1 << 20, blockSize: 4096 });
    const engine = Engine.create(config, applyOptions(config));
    await (await engine.mount()).write(0, Buffer.from('block zero'));
    await engine.shutdown();
    const refused = await runS3backer(['-f', '--test', '--blockSize=8k', dir, mnt]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /--blockSize=8192 differs from the 4096 recorded in block 0.*--force/);
    assert.match(refused.stderr, /\[S3B_SIZE_MISMATCH\]/);
    const warnings: string[] = [];
    const forced = Engine.create({ ...config, blockSize: 8192, size: undefined, force: true }, applyOptions(config), {
      log: (level, _source, message) => { if (level === 'warn') warnings.push(message); },
    });
    assert.equal((await forced.mount()).geometry.blockSize, 8192);
    await forced.shutdown();
    assert.match(warnings.join('\n'), /--blockSize=8192 differs from the 4096 recorded in block 0 of the volume; using 8192 because of --force/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
