import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CacheFileToken, FileCacheStorage, readCacheFileToken, type CacheVolume } from '../../plugins/block-cache/index.js';
import { CacheFileLock } from '../../plugins/block-cache/cache-file-lock.js';
import { isS3BackerError } from '../../src/errors/s3backer-error.js';

const dirs: string[] = [];
after(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function freshPath(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 's3b-cache-token-'));
  dirs.push(dir);
  return join(dir, 'cache');
}

const ID = 'file:///volumes/disk1/ disk1/';
const volume = (overrides: Partial<CacheVolume> = {}): CacheVolume => ({ id: ID, blockSize: 4096, numBlocks: 1024, capacity: 8, mountToken: 0x77, ...overrides });
const pattern = (block: number, version: number) => Buffer.alloc(4096, `${block}:${version};`);

/** A file left by a crashed mount (token 0x77): blocks 0-4 dirty (2 written twice), 5 clean. */
async function crashedCacheFile(path: string): Promise<void> {
  const storage = new FileCacheStorage(path);
  await storage.open(volume());
  for (let block = 0; block < 6; block++) await storage.putDirty(block, pattern(block, 0));
  await storage.putDirty(2, pattern(2, 1));
  await storage.markClean(5, '"e5"');
  await storage.close(false);
}

test('CacheFileToken: reads the token and counts dirty blocks; clear() leaves a valid file with token 0 and every block', { timeout: 10_000 }, async () => {
  const path = await freshPath();
  await crashedCacheFile(path);
  const token = await CacheFileToken.open(path, ID);
  assert.ok(token);
  assert.equal(token.token, 0x77);
  assert.equal(token.dirtyBlocks, 5);
  await token.clear();
  assert.equal(token.token, undefined);
  await token.clear();
  await token.close();
  assert.equal(await readCacheFileToken(path), undefined);
  assert.deepEqual((await readdir(join(path, '..'))).sort(), ['cache'], 'the lock is released');

  const storage = new FileCacheStorage(path);
  const contents = await storage.open(volume({ mountToken: 0x99 }));
  assert.equal(contents.mountToken, undefined, 'the next mount finds no crashed mount recorded');
  assert.equal(contents.blocks.filter((block) => block.dirty).length, 5);
  assert.ok((await storage.read(2)).equals(pattern(2, 1)));
  await storage.close(false);
});

test('CacheFileToken: nothing is written when no token is recorded', { timeout: 10_000 }, async () => {
  const path = await freshPath();
  const storage = new FileCacheStorage(path);
  await storage.open(volume());
  await storage.close(true);
  const before = await readFile(path);
  const token = await CacheFileToken.open(path, ID);
  assert.equal(token?.token, undefined);
  await token?.clear();
  await token?.close();
  assert.ok((await readFile(path)).equals(before));
});

test('CacheFileToken refuses another volume\'s file, a file in use, and a file that is not a cache file; an absent file is undefined', { timeout: 10_000 }, async () => {
  const path = await freshPath();
  assert.equal(await CacheFileToken.open(path, ID), undefined);
  assert.deepEqual(await readdir(join(path, '..')), [], 'no lock is left for an absent file');

  await crashedCacheFile(path);
  await assert.rejects(CacheFileToken.open(path, 'file:///volumes/disk2/ disk2/'), (error) =>
    isS3BackerError(error, 'S3B_CACHE_FILE') && /belongs to volume "file:\/\/\/volumes\/disk1\/ disk1\/", not "file:\/\/\/volumes\/disk2\/ disk2\/"/.test(error.message));
  assert.equal(await readCacheFileToken(path), 0x77);

  const lock = await CacheFileLock.acquire(path);
  try {
    await assert.rejects(CacheFileToken.open(path, ID), (error) =>
      isS3BackerError(error, 'S3B_CACHE_FILE') && new RegExp(`in use by s3backer process ${process.pid}, so the volume is mounted`).test(error.message));
  } finally {
    await lock.release();
  }

  const junk = await freshPath();
  await writeFile(junk, Buffer.alloc(8192, 7));
  await assert.rejects(CacheFileToken.open(junk, ID), (error) => isS3BackerError(error, 'S3B_CACHE_FILE') && /is not a valid s3backer cache file/.test(error.message));
});
