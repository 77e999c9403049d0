import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, readdir, readFile, rm, open } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runS3backer, S3backerProcess, S3BACKER_BIN } from '../helpers/s3backer-process.js';
import { runOnTerminal } from '../helpers/pty-run.js';
import { skipUnlessFuse } from '../helpers/fuse-support.js';
import { runCommand } from '../helpers/run-command.js';
import { FileCacheStorage, readCacheFileToken } from '../../plugins/block-cache/index.js';

const BLOCKS = ['00000000', '00000003', '000000ff'];

/** The C tool's --test layout: one raw file per block, an unrelated file, and (by default) a mounted flag left by a crash. */
async function volumeWithBlocks(options: { flag?: boolean; blocks?: string[] } = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 's3backer-maint-'));
  for (const name of options.blocks ?? BLOCKS) await writeFile(join(dir, name), randomBytes(4096));
  await writeFile(join(dir, 'unrelated.txt'), 'not a block');
  if (options.flag !== false) await writeFile(join(dir, 's3backer-mounted'), 'host\n20260101T000000Z\n');
  return dir;
}

test('--reset-mounted-flag deletes only the flag, and says whose it was', { timeout: 30_000 }, async () => {
  const dir = await volumeWithBlocks();
  try {
    const result = await runS3backer(['--test', '--reset-mounted-flag', dir], { timeoutMs: 20_000 });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /cleared the mounted flag, set by host since 20260101T000000Z \(mount token 0x00000001\)/);
    assert.deepEqual((await readdir(dir)).sort(), [...BLOCKS, 'unrelated.txt']);
    const again = await runS3backer(['--test', '--reset-mounted-flag', dir], { timeoutMs: 20_000 });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /the mounted flag was not set/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('--erase without a terminal and without --force refuses and deletes nothing', { timeout: 30_000 }, async () => {
  const dir = await volumeWithBlocks({ flag: false });
  try {
    // Even a "y" on a pipe is not a confirmation: nobody saw the question.
    const result = await runS3backer(['--test', '--size=1m', '--erase', dir], { input: 'y\n', timeoutMs: 20_000 });
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /not erased: standard input is not a terminal, .*; give --force to erase without asking \[S3B_NOT_CONFIRMED\]/);
    assert.doesNotMatch(result.stderr, /\[y\/N\]/, 'no question that nobody can answer');
    assert.deepEqual((await readdir(dir)).sort(), [...BLOCKS, 'unrelated.txt']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('--erase on a terminal asks: "n" keeps everything, "y" erases every block (single deletes on the dir store)', { timeout: 60_000 }, async () => {
  const dir = await volumeWithBlocks({ flag: false });
  try {
    const argv = [S3BACKER_BIN, '--test', '--size=1m', '--erase', dir];
    const declined = await runOnTerminal(argv, '[y/N] ', 'n', 30_000);
    assert.notEqual(declined.code, 0, declined.stdout);
    assert.match(declined.stdout, /s3backer: erase all blocks of file:\/\/.*\? \[y\/N\] /);
    assert.match(declined.stdout, /not erased: the answer was not "yes" \[S3B_NOT_CONFIRMED\]/);
    assert.equal((await readdir(dir)).length, 4);

    const confirmed = await runOnTerminal(argv, '[y/N] ', 'y', 30_000);
    assert.equal(confirmed.code, 0, confirmed.stdout);
    assert.match(confirmed.stdout, /erased 3 non-zero blocks in [\d.]+ s \(3 delete requests/);
    assert.deepEqual(await readdir(dir), ['unrelated.txt']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('--erase of a volume whose mounted flag is set refuses; --force warns with the flag\'s host and time, then erases', { timeout: 30_000 }, async () => {
  const dir = await volumeWithBlocks();
  try {
    const refused = await runS3backer(['--test', '--size=1m', '--erase', dir], { timeoutMs: 20_000 });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /not erased: .* is marked as mounted by host since 20260101T000000Z \(mount token 0x00000001\); unmount it first\. .*--reset-mounted-flag.*--force.*\[S3B_MOUNTED_ELSEWHERE\]/);
    assert.equal((await readdir(dir)).length, 5, 'nothing deleted');

    const forced = await runS3backer(['--test', '--size=1m', '--erase', '--force', dir], { timeoutMs: 20_000 });
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stderr, /WARNING: .* is marked as MOUNTED by host since 20260101T000000Z \(mount token 0x00000001\); ERASING IT ANYWAY because of --force/);
    assert.match(forced.stderr, /erased 3 non-zero blocks/);
    assert.deepEqual(await readdir(dir), ['unrelated.txt'], 'every block and the flag are gone; other objects stay');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/**
 * A config file whose plugin wraps the chosen store: deletes of `00000003` always fail; with
 * `bulk`, the store also gets a `deleteMany` that reports `00000003` and `00000010` as failed
 * (the latter only in bulk, as S3 reports a transient per-key InternalError).
 */
async function failingDeletesConfig(dir: string, bulk: boolean): Promise<string> {
  const path = join(dir, '..', `${dir.split('/').pop()}-${bulk ? 'bulk' : 'single'}.config.mjs`);
  await writeFile(path, `
const always = new Set(['00000003']);
const inBulk = new Set(['00000003', '00000010']);
export default {
  plugins: [{
    name: 'failing-deletes',
    apply(engine) {
      engine.hooks.wrapStore.tap('failing-deletes', (inner) => {
        const store = Object.create(inner);
        store.delete = async (key) => {
          if (always.has(key)) throw new Error('EACCES: injected for ' + key);
          return inner.delete(key);
        };
        store.deleteMany = ${bulk ? `async (keys) => {
          const failed = [];
          for (const key of keys) {
            if (inBulk.has(key)) failed.push({ key, error: 'InternalError: injected' });
            else await inner.delete(key);
          }
          engine.logger('failing-deletes').warn('deleteMany of ' + keys.length + ' keys');
          return { failed };
        }` : 'undefined'};
        return store;
      });
    },
  }],
};
`);
  return path;
}

for (const bulk of [false, true]) {
  test(`--erase where some deletes fail (${bulk ? 'bulk' : 'single'} deletes): a non-zero exit naming them; the flag stays`, { timeout: 30_000 }, async () => {
    const dir = await volumeWithBlocks({ blocks: [...BLOCKS, '00000010'] });
    const config = await failingDeletesConfig(dir, bulk);
    try {
      const result = await runS3backer(['--test', '--size=1m', '--erase', '--force', '--config', config, dir], { timeoutMs: 20_000 });
      assert.notEqual(result.code, 0, result.stderr);
      assert.match(result.stderr, /ERROR: 1 blocks could not be deleted: 00000003 \(EACCES: injected for 00000003\)/);
      assert.match(result.stderr, /not fully erased: 1 blocks of .* remain \(00000003; 1 deletes failed\); the mounted flag and key check are kept.*\[S3B_ERASE_INCOMPLETE\]/);
      if (bulk) assert.match(result.stderr, /\[failing-deletes\] deleteMany of 4 keys/);
      // 00000010 failed only inside the bulk request: its own retry deleted it.
      assert.deepEqual((await readdir(dir)).sort(), ['00000003', 's3backer-mounted', 'unrelated.txt']);
    } finally {
      await rm(dir, { recursive: true, force: true });
      await rm(config, { force: true });
    }
  });
}

test('--erase with a mount point is a usage error, as in the C tool', async () => {
  const result = await runS3backer(['--test', '--erase', '/tmp/a', '/tmp/b']);
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /\[S3B_USAGE\]/);
});

test('--reset-mounted-flag with --blockCacheFile: refused while mounted and for another volume\'s file; then clears both, and mounts need no --force', { timeout: 180_000 }, async (t) => {
  if (skipUnlessFuse(t)) return;
  const work = await mkdtemp(join(tmpdir(), 's3backer-reset-cache-'));
  const dir = join(work, 'volume');
  const mnt = join(work, 'mnt');
  const cache = join(work, 'cache');
  const otherCache = join(work, 'other-cache');
  await Promise.all([mkdir(dir), mkdir(mnt)]);
  const volume = ['--test', '--size=1m', '--blockSize=4k', dir];
  const data = randomBytes(64 << 10);
  let proc: S3backerProcess | undefined;
  try {
    proc = await S3backerProcess.start(mnt, [`--blockCacheFile=${cache}`, ...volume]);
    const live = await runS3backer(['--reset-mounted-flag', `--blockCacheFile=${cache}`, ...volume], { timeoutMs: 20_000 });
    assert.notEqual(live.code, 0, 'a mounted volume\'s cache file is refused');
    assert.match(live.stderr, new RegExp(`cache file ${cache} is in use by s3backer process ${proc.child.pid}, so the volume is mounted; unmount it first.*\\[S3B_CACHE_FILE\\]`));
    assert.ok((await readdir(dir)).includes('s3backer-mounted'), 'the flag of the live mount is untouched');

    // Stored (fsync), then a crash: the flag stays in the store and the token in the cache file.
    const disk = await open(join(mnt, 'file'), 'r+');
    await disk.write(data, 0, data.length, 0);
    await disk.datasync();
    proc.child.kill('SIGKILL');
    await proc.exited;
    await runCommand('umount', ['-l', mnt]);
    await disk.close().catch(() => {});
    const token = await readCacheFileToken(cache);
    assert.ok(token !== undefined, 'the crashed mount left its token in the cache file');

    const blocked = await runS3backer(['-f', ...volume, mnt], { timeoutMs: 20_000 });
    assert.notEqual(blocked.code, 0);
    assert.match(blocked.stderr, /appears to be already mounted.*--reset-mounted-flag.*--force.*\[S3B_MOUNTED_ELSEWHERE\]/);

    // A cache file of another volume (made by the real cache-file code) is not this volume's to clear.
    const other = new FileCacheStorage(otherCache);
    await other.open({ id: 'file:///elsewhere/ ', blockSize: 4096, numBlocks: 256, capacity: 8, mountToken: 0x4242 });
    await other.close(false);
    const wrong = await runS3backer(['--reset-mounted-flag', `--blockCacheFile=${otherCache}`, ...volume], { timeoutMs: 20_000 });
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /cache file .*other-cache belongs to volume "file:\/\/\/elsewhere\/ ", not ".*": its mount token is not this volume's to clear.*\[S3B_CACHE_FILE\]/);
    assert.ok((await readdir(dir)).includes('s3backer-mounted'), 'refused before anything changed');
    assert.equal(await readCacheFileToken(otherCache), 0x4242);

    const reset = await runS3backer(['--reset-mounted-flag', `--blockCacheFile=${cache}`, ...volume], { timeoutMs: 20_000 });
    assert.equal(reset.code, 0, reset.stderr);
    const hex = `0x${token.toString(16).padStart(8, '0')}`;
    assert.match(reset.stderr, new RegExp(`cleared the mounted flag, set by \\S+ since \\d{8}T\\d{6}Z \\(mount token ${hex}\\)`));
    assert.match(reset.stderr, new RegExp(`cleared mount token ${hex} in cache file ${cache}`));
    assert.ok(!(await readdir(dir)).includes('s3backer-mounted'));
    assert.equal(await readCacheFileToken(cache), undefined, 'the cache file records no mount now');

    // What needed --force before mounts without it, and the cache file is still a valid one.
    proc = await S3backerProcess.start(mnt, volume);
    assert.equal(await proc.unmount(), 0, proc.output);
    proc = await S3backerProcess.start(mnt, [`--blockCacheFile=${cache}`, ...volume]);
    assert.doesNotMatch(proc.output, /recognised as our own earlier mount|S3B_CACHE_FILE/);
    assert.ok((await readFile(join(mnt, 'file'))).subarray(0, data.length).equals(data));
    assert.equal(await proc.unmount(), 0, proc.output);
    assert.ok(!(await readdir(dir)).includes('s3backer-mounted'), 'a clean unmount');
  } finally {
    await proc?.kill();
    await rm(work, { recursive: true, force: true });
  }
});
