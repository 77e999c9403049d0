import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, readdir, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runS3backer } from '../helpers/s3backer-process.js';

async function volumeWithBlocks(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 's3backer-maint-'));
  // The C tool's --test layout: one raw file per block, plus a mounted flag left by a crash.
  for (const name of ['00000000', '00000003', '000000ff']) await writeFile(join(dir, name), randomBytes(4096));
  await writeFile(join(dir, 'unrelated.txt'), 'not a block');
  await writeFile(join(dir, 's3backer-mounted'), 'host\n20260101T000000Z\n');
  return dir;
}

test('--reset-mounted-flag deletes only the flag', async () => {
  const dir = await volumeWithBlocks();
  try {
    const result = await runS3backer(['--test', '--reset-mounted-flag', dir]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual((await readdir(dir)).sort(), ['00000000', '00000003', '000000ff', 'unrelated.txt']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('--erase asks first; "n" keeps everything, --force deletes every block and the flag', async () => {
  const dir = await volumeWithBlocks();
  try {
    const declined = await runS3backer(['--test', '--size=1m', '--erase', dir], { input: 'n\n' });
    assert.notEqual(declined.code, 0);
    assert.match(declined.stderr, /erase all blocks of .*\? \[y\/N\]/);
    assert.equal((await readdir(dir)).length, 5);
    const erased = await runS3backer(['--test', '--size=1m', '--erase', '--force', dir]);
    assert.equal(erased.code, 0, erased.stderr);
    assert.match(erased.stderr, /erased 3 non-zero blocks/);
    assert.deepEqual(await readdir(dir), ['unrelated.txt']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('--erase with a mount point is a usage error, as in the C tool', async () => {
  const result = await runS3backer(['--test', '--erase', '/tmp/a', '/tmp/b']);
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /\[S3B_USAGE\]/);
});
