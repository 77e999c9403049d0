import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import {
  FileCacheStorage, SPARE_SLOTS, nodeCacheFileIo, readCacheFileToken, type CacheFileHandle, type CacheFileIo,
} from '../../plugins/block-cache/cache-file.js';
import {
  ENTRY_SIZE, HEADER_COPY_OFFSETS, HEADER_COPY_SIZE, crc32c, dataOffset, decodeEntry, encodeEntry, entryOffset,
  fileSize, slotOffset,
} from '../../plugins/block-cache/cache-file-format.js';
import type { CacheContents, CacheVolume } from '../../plugins/block-cache/cache-storage.js';
import type { Logger } from '../../src/engine/logger.js';
import { isS3BackerError } from '../../src/errors/s3backer-error.js';

const dirs: string[] = [];
async function freshPath(name = 'cache'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 's3b-cache-file-'));
  dirs.push(dir);
  return join(dir, name);
}
after(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

const BLOCK_SIZE = 4096;

function volume(overrides: Partial<CacheVolume> = {}): CacheVolume {
  return { id: 'memory:test/disk1/', blockSize: BLOCK_SIZE, numBlocks: 1024, capacity: 8, mountToken: 0x1234, ...overrides };
}

/** Distinct bytes for each (block, version); the kill -9 child fills blocks the same way. */
function pattern(block: number, version: number, size = BLOCK_SIZE): Buffer {
  return Buffer.alloc(size, `${block}:${version};`);
}

function byBlock(contents: CacheContents): Map<number, { dirty: boolean; etag: string | undefined }> {
  return new Map(contents.blocks.map(({ block, dirty, etag }) => [block, { dirty, etag }]));
}

function collectingLog(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    error: (m) => lines.push(`error: ${m}`),
    warn: (m) => lines.push(`warn: ${m}`),
    info: (m) => lines.push(`info: ${m}`),
    debug: (m) => lines.push(`debug: ${m}`),
  };
}

async function rejectsWithCacheFileError(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isS3BackerError(error, 'S3B_CACHE_FILE'), `expected S3B_CACHE_FILE, got ${String(error)}`);
    assert.match(error.message, pattern);
    return true;
  });
}

/** Patch bytes of a closed cache file in place. */
async function patchFile(path: string, position: number, bytes: Buffer): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.write(bytes, 0, bytes.length, position);
  } finally {
    await handle.close();
  }
}

async function readEntryBytes(path: string, slot: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const bytes = Buffer.alloc(ENTRY_SIZE);
    await handle.read(bytes, 0, ENTRY_SIZE, entryOffset(slot));
    return bytes;
  } finally {
    await handle.close();
  }
}

/** The slot whose entry names `block`, found by scanning the closed file's directory. */
async function slotOf(path: string, slotCount: number, block: number): Promise<number> {
  for (let slot = 0; slot < slotCount; slot++) {
    const decoded = decodeEntry(await readEntryBytes(path, slot));
    if (decoded.kind === 'entry' && decoded.entry.block === block) return slot;
  }
  throw new Error(`no entry for block ${block}`);
}

test('cache-file: crc32c is CRC-32C (Castagnoli)', { timeout: 5_000 }, () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
});

test('cache-file: putDirty, putClean, markClean and remove round-trip while open; the file is created 0600', { timeout: 10_000 }, async () => {
  const path = await freshPath();
  const storage = new FileCacheStorage(path);
  assert.equal(storage.persistent, true);
  assert.equal(storage.description, path);
  const contents = await storage.open(volume());
  assert.deepEqual(contents, { mountToken: undefined, blocks: [] });
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  assert.equal((await stat(path)).size, fileSize(8 + SPARE_SLOTS, BLOCK_SIZE));

  await storage.putDirty(3, pattern(3, 0));
  await storage.putClean(7, pattern(7, 0), '"etag-7"');
  assert.ok((await storage.read(3)).equals(pattern(3, 0)));
  assert.ok((await storage.read(7)).equals(pattern(7, 0)));
  await storage.putDirty(3, pattern(3, 1));
  assert.ok((await storage.read(3)).equals(pattern(3, 1)));
  const first = await storage.read(3);
  first.fill(0);
  assert.ok((await storage.read(3)).equals(pattern(3, 1)), 'read returns a fresh buffer each time');
  await storage.markClean(3, '"etag-3"');
  assert.ok((await storage.read(3)).equals(pattern(3, 1)));
  await storage.remove(7);
  await assert.rejects(storage.read(7), (error: unknown) => isS3BackerError(error, 'S3B_CACHE_FILE'));
  await storage.close(true);
  await assert.rejects(storage.read(3), (error: unknown) => isS3BackerError(error, 'S3B_ENGINE_STATE'));
});

test('cache-file: close(true) keeps clean blocks with their ETags and clears the mount token', { timeout: 10_000 }, async () => {
  const path = await freshPath();
  const storage = new FileCacheStorage(path);
  await storage.open(volume({ mountToken: 0x4242 }));
  assert.equal(await readCacheFileToken(path), 0x4242, 'the token is recorded when open returns');
  await storage.putDirty(1, pattern(1, 0));
  await storage.markClean(1, '"0123456789abcdef0123456789abcdef-12"');
  await storage.putClean(2, pattern(2, 0), undefined);
  await storage.putClean(3, pattern(3, 0), '"e3"');
  await storage.putClean(4, pattern(4, 0), '"e4"');
  await storage.remove(4);
  await storage.close(true);
  assert.equal(await readCacheFileToken(path), undefined);

  const again = new FileCacheStorage(path);
  const contents = await again.open(volume({ mountToken: 0x5151 }));
  assert.equal(contents.mountToken, undefined);
  assert.deepEqual(byBlock(contents), new Map([
    [1, { dirty: false, etag: '"0123456789abcdef0123456789abcdef-12"' }],
    [2, { dirty: false, etag: undefined }],
    [3, { dirty: false, etag: '"e3"' }],
  ]));
  for (const block of [1, 2, 3]) assert.ok((await again.read(block)).equals(pattern(block, 0)));
  await again.close(true);
});

test('cache-file: close(false) keeps dirty blocks and the mount token for the next mount', { timeout: 10_000 }, async () => {
  const path = await freshPath();
  const storage = new FileCacheStorage(path);
  await storage.open(volume({ mountToken: 0x77 }));
  for (let block = 0; block < 6; block++) await storage.putDirty(block, pattern(block, 0));
  await storage.putDirty(2, pattern(2, 1));
  await storage.markClean(5, '"e5"');
  await storage.close(false);
  assert.equal(await readCacheFileToken(path), 0x77);

  const log = collectingLog();
  const again = new FileCacheStorage(path, { log });
  const contents = await again.open(volume({ mountToken: 0x88 }));
  assert.equal(contents.mountToken, 0x77);
  const blocks = byBlock(contents);
  assert.equal(blocks.size, 6);
  for (let block = 0; block < 5; block++) assert.deepEqual(blocks.get(block), { dirty: true, etag: undefined });
  assert.deepEqual(blocks.get(5), { dirty: false, etag: '"e5"' });
  assert.ok((await again.read(2)).equals(pattern(2, 1)));
  assert.ok((await again.read(4)).equals(pattern(4, 0)));
  assert.equal(await readCacheFileToken(path), 0x88, 'this mount records its own token');
  // Declared clean while blocks are still dirty: the token must stay, or the next mount would not recover them.
  await again.close(true);
  assert.ok(log.lines.some((line) => /^warn: .*closed as clean but 5 blocks are still dirty/.test(line)), log.lines.join('\n'));
  assert.equal(await readCacheFileToken(path), 0x88);
  const third = new FileCacheStorage(path);
  assert.equal((await third.open(volume({ mountToken: 0x99 }))).mountToken, 0x88);
  await third.close(false);
});

test('cache-file: a read-only mount (no token) keeps the token a crashed mount left', { timeout: 10_000 }, async () => {
  const path = await freshPath();
  const storage = new FileCacheStorage(path);
  await storage.open(volume({ mountToken: 0x31 }));
  await storage.putDirty(1, pattern(1, 0));
  await storage.close(false);
  const readOnly = new FileCacheStorage(path);
  assert.equal((await readOnly.open(volume({ mountToken: undefined }))).mountToken, 0x31);
  await readOnly.close(false);
  assert.equal(await readCacheFileToken(path), 0x31);
});

test('cache-file: readCacheFileToken is undefined for a missing or foreign file', { timeout: 5_000 }, async () => {
  const path = await freshPath();
  assert.equal(await readCacheFileToken(path), undefined);
  await writeFile(path, randomBytes(8192));
  assert.equal(await readCacheFileToken(path), undefined);
});

/** The writer run in a child process and killed with SIGKILL: 8 writers rewriting 32 blocks. */
const KILL_CHILD = `
const [moduleUrl, path, token] = process.argv.slice(1);
const { FileCacheStorage } = await import(moduleUrl);
const storage = new FileCacheStorage(path);
await storage.open({ id: 'kill-test', blockSize: 4096, numBlocks: 1024, capacity: 32, mountToken: Number(token) });
process.stdout.write('ready\\n');
const writer = async (w) => {
  for (let v = 0; ; v++) {
    for (let b = w; b < 32; b += 8) {
      await storage.putDirty(b, Buffer.alloc(4096, b + ':' + v + ';'));
      process.stdout.write(b + ' ' + v + '\\n'); // pipes are written synchronously on Linux
    }
  }
};
await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map(writer));
`;

test('cache-file: after kill -9 mid-stream every acknowledged putDirty is there, dirty, with its exact bytes', { timeout: 60_000 }, async () => {
  const path = await freshPath();
  const moduleUrl = new URL('../../plugins/block-cache/cache-file.js', import.meta.url).href;
  const token = 0x2bad;
  const child = spawn(process.execPath, ['--input-type=module', '-e', KILL_CHILD, moduleUrl, path, String(token)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  const acked = new Map<number, number>();
  let acks = 0;
  try {
    for await (const line of createInterface({ input: child.stdout })) {
      if (line === 'ready') continue;
      const [block, version] = line.split(' ').map(Number) as [number, number];
      acked.set(block, version);
      // Well past the first rewrites, so freed slots have been reused several times.
      if (++acks === 1500) child.kill('SIGKILL');
    }
  } finally {
    child.kill('SIGKILL');
  }
  assert.equal(await exited, 'SIGKILL', `the writer died on its own: ${stderr}`);
  assert.ok(acks >= 1500, `only ${acks} writes acknowledged: ${stderr}`);
  assert.equal(await readCacheFileToken(path), token);

  const storage = new FileCacheStorage(path);
  const contents = await storage.open({ id: 'kill-test', blockSize: 4096, numBlocks: 1024, capacity: 32, mountToken: 0x3ee });
  assert.equal(contents.mountToken, token);
  const found = byBlock(contents);
  for (const [block, version] of acked) {
    assert.deepEqual(found.get(block), { dirty: true, etag: undefined }, `block ${block}`);
    const data = await storage.read(block);
    // The write acknowledged last, or the one in flight when the kill came: nothing older, nothing torn.
    const ok = data.equals(pattern(block, version)) || data.equals(pattern(block, version + 1));
    assert.ok(ok, `block ${block}: bytes are neither version ${version} (acknowledged) nor ${version + 1}`);
  }
  for (const { block } of contents.blocks) {
    if (!acked.has(block)) assert.ok((await storage.read(block)).equals(pattern(block, 0)), `unacknowledged block ${block} holds torn bytes`);
  }
  assert.equal(storage.stats.freeSlots, 32 + SPARE_SLOTS - contents.blocks.length, 'every slot not holding a block is free again');
  await storage.close(false);
});

test('cache-file: a torn entry is ignored, counted and logged; the other blocks survive', { timeout: 10_000 }, async () => {
  const path = await freshPath();
  const storage = new FileCacheStorage(path);
  await storage.open(volume());
  for (let block = 10; block < 14; block++) await storage.putDirty(block, pattern(block, 0));
  await storage.close(false);

  const slotCount = 8 + SPARE_SLOTS;
  const slot = await slotOf(path, slotCount, 12);
  const bytes = await readEntryBytes(path, slot);
  bytes[20] = bytes[20]! ^ 0xff; // as if the sector were half written
  await patchFile(path, entryOffset(slot), bytes);
  // And one slot of pure garbage.
  await patchFile(path, entryOffset(slotCount - 1), randomBytes(ENTRY_SIZE));

  const log = collectingLog();
  const again = new FileCacheStorage(path, { log });
  const contents = await again.open(volume());
  assert.deepEqual([...byBlock(contents).keys()].sort((a, b) => a - b), [10, 11, 13]);
  assert.equal(again.stats.tornEntries, 2);
  assert.ok(log.lines.some((line) => /^warn: .*ignored 2 torn/.test(line)), log.lines.join('\n'));
  for (const block of [10, 11, 13]) assert.ok((await again.read(block)).equals(pattern(block, 0)));
  // The ignored entries were cleared, so their slots are free again.
  assert.equal(again.stats.freeSlots, slotCount - 3);
  await again.close(false);
  assert.deepEqual(decodeEntry(await readEntryBytes(path, slotCount - 1)), { kind: 'free' });
});

test('cache-file: two entries for one block: the higher generation wins, the other is freed', { timeout: 10_000 }, async () => {
  const path = await freshPath();
  const storage = new FileCacheStorage(path);
  await storage.open(volume());
  await storage.putDirty(5, pattern(5, 0)); // generation 1
  await storage.putDirty(6, pattern(6, 0)); // generation 2
  await storage.close(false);
  const slotCount = 8 + SPARE_SLOTS;
  const slot5 = await slotOf(path, slotCount, 5);
  const slot6 = await slotOf(path, slotCount, 6);

  // A crash between writing a rewrite's entry and clearing the old one: both on disk.
  const newer = 40;
  await patchFile(path, slotOffset(slotCount, BLOCK_SIZE, newer), pattern(5, 1));
  await patchFile(path, entryOffset(newer), encodeEntry({ generation: 10, block: 5, dirty: true, etag: undefined }));
  // And for block 6 an OLDER leftover copy: the current entry must win.
  const older = 41;
  await patchFile(path, slotOffset(slotCount, BLOCK_SIZE, older), pattern(6, 99));
  await patchFile(path, entryOffset(older), encodeEntry({ generation: 1, block: 6, dirty: false, etag: '"old"' }));

  const again = new FileCacheStorage(path);
  const contents = await again.open(volume());
  assert.equal(again.stats.duplicateEntries, 2);
  assert.deepEqual(byBlock(contents), new Map([[5, { dirty: true, etag: undefined }], [6, { dirty: true, etag: undefined }]]));
  assert.ok((await again.read(5)).equals(pattern(5, 1)));
  assert.ok((await again.read(6)).equals(pattern(6, 0)));
  await again.close(false);
  assert.deepEqual(decodeEntry(await readEntryBytes(path, slot5)), { kind: 'free' });
  assert.deepEqual(decodeEntry(await readEntryBytes(path, older)), { kind: 'free' });
  assert.equal(decodeEntry(await readEntryBytes(path, slot6)).kind, 'entry');
  // New writes get generations above every one found, so they win over the leftovers' numbers.
  const third = new FileCacheStorage(path);
  await third.open(volume());
  await third.putDirty(5, pattern(5, 2));
  await third.close(false);
  const fourth = new FileCacheStorage(path);
  await fourth.open(volume());
  assert.ok((await fourth.read(5)).equals(pattern(5, 2)));
  await fourth.close(false);
});

test('cache-file: refuses another block size, another volume and a foreign or corrupt file with S3B_CACHE_FILE', { timeout: 10_000 }, async () => {
  const path = await freshPath();
  const storage = new FileCacheStorage(path);
  await storage.open(volume({ blockSize: 65536 }));
  await storage.close(false);
  await rejectsWithCacheFileError(new FileCacheStorage(path).open(volume({ blockSize: 4096 })),
    new RegExp(`cache file ${path} was made for block size 65536, not 4096; delete it or use another --blockCacheFile`));
  await rejectsWithCacheFileError(new FileCacheStorage(path).open(volume({ blockSize: 65536, id: 's3:other/' })),
    /was made for volume "memory:test\/disk1\/", not "s3:other\/"; delete it or use another --blockCacheFile\. Its last mount did not shut down cleanly/);

  const garbage = await freshPath('garbage');
  await writeFile(garbage, randomBytes(100_000));
  await rejectsWithCacheFileError(new FileCacheStorage(garbage).open(volume()), /is not an s3backer cache file .*delete it or use another --blockCacheFile/);
  const text = await freshPath('text');
  await writeFile(text, 'hello\n');
  await rejectsWithCacheFileError(new FileCacheStorage(text).open(volume()), /is not an s3backer cache file/);
  assert.equal(await readFile(text, 'utf8'), 'hello\n', 'a refused file is left as it was');

  const zeros = await freshPath('zeros');
  await writeFile(zeros, Buffer.alloc(65536));
  await rejectsWithCacheFileError(new FileCacheStorage(zeros).open(volume()), /has zeros where its header should be/);

  const future = await freshPath('future');
  const futureStorage = new FileCacheStorage(future);
  await futureStorage.open(volume());
  await futureStorage.close(false);
  const version = Buffer.alloc(4);
  version.writeUInt32LE(2);
  for (const offset of HEADER_COPY_OFFSETS) await patchFile(future, offset + 8, version);
  await rejectsWithCacheFileError(new FileCacheStorage(future).open(volume()), /has format version 2 but this s3backer reads version 1/);

  const corrupt = await freshPath('corrupt');
  const made = new FileCacheStorage(corrupt);
  await made.open(volume());
  await made.close(true); // both header copies now exist
  for (const offset of HEADER_COPY_OFFSETS) await patchFile(corrupt, offset + 30, Buffer.from([0x5a]));
  await rejectsWithCacheFileError(new FileCacheStorage(corrupt).open(volume()), /has a corrupt header \(header checksum mismatch\)/);
  assert.equal(await readCacheFileToken(corrupt), undefined);
});

test('cache-file: a torn header update leaves the other copy in charge', { timeout: 10_000 }, async () => {
  const path = await freshPath();
  const storage = new FileCacheStorage(path);
  await storage.open(volume({ mountToken: 0x10 })); // copy B, sequence 2
  await storage.putDirty(1, pattern(1, 0));
  await storage.close(false);
  // Tear copy B (the current one): copy A (sequence 1, token 0) is what is left.
  await patchFile(path, HEADER_COPY_OFFSETS[1] + 100, randomBytes(HEADER_COPY_SIZE - 100));
  const again = new FileCacheStorage(path);
  const contents = await again.open(volume({ mountToken: 0x11 }));
  assert.deepEqual(byBlock(contents), new Map([[1, { dirty: true, etag: undefined }]]));
  await again.close(false);
  assert.equal(await readCacheFileToken(path), 0x11);
});

test('cache-file: an empty existing file is initialised', { timeout: 5_000 }, async () => {
  const path = await freshPath();
  await writeFile(path, '');
  const storage = new FileCacheStorage(path);
  assert.deepEqual(await storage.open(volume()), { mountToken: undefined, blocks: [] });
  await storage.putDirty(0, pattern(0, 0));
  await storage.close(false);
  assert.equal((await stat(path)).size, fileSize(8 + SPARE_SLOTS, BLOCK_SIZE));
});

test('cache-file: a capacity change keeps every dirty block (growing if needed) and the newest clean ones', { timeout: 20_000 }, async () => {
  const path = await freshPath();
  const storage = new FileCacheStorage(path);
  await storage.open(volume({ capacity: 4, mountToken: 0x61 }));
  // More dirty blocks than the capacity (the spare slots allow it): as after a cache with a larger --blockCacheSize.
  for (let block = 0; block < 10; block++) await storage.putDirty(block, pattern(block, 0));
  await storage.close(false);
  assert.equal((await stat(path)).size, fileSize(4 + SPARE_SLOTS, BLOCK_SIZE));

  // A capacity below the dirty count: all 10 stay, and the file grows to 10 + spares.
  const log = collectingLog();
  const smaller = new FileCacheStorage(path, { log });
  const contents = await smaller.open(volume({ capacity: 3, mountToken: 0x62 }));
  assert.equal(contents.mountToken, 0x61, 'a rewrite keeps the crashed mount\'s token');
  assert.deepEqual([...byBlock(contents)].sort(([a], [b]) => a - b), Array.from({ length: 10 }, (_, block) => [block, { dirty: true, etag: undefined }]));
  for (let block = 0; block < 10; block++) assert.ok((await smaller.read(block)).equals(pattern(block, 0)));
  assert.equal(smaller.stats.slots, 10 + SPARE_SLOTS);
  assert.equal((await stat(path)).size, fileSize(10 + SPARE_SLOTS, BLOCK_SIZE));
  assert.ok(log.lines.includes(`info: cache file ${path}: resizing from ${4 + SPARE_SLOTS} to ${10 + SPARE_SLOTS} slots (10 blocks + ${SPARE_SLOTS} spare), keeping 10 dirty and 0 clean blocks`), log.lines.join('\n'));
  // Stored one by one in block order: blocks 8 and 9 are the newest clean ones.
  for (let block = 0; block < 10; block++) await smaller.markClean(block, `"e${block}"`);
  await smaller.close(true);

  const shrunk = new FileCacheStorage(path, { log });
  const kept = await shrunk.open(volume({ capacity: 2 }));
  assert.deepEqual(byBlock(kept), new Map([[8, { dirty: false, etag: '"e8"' }], [9, { dirty: false, etag: '"e9"' }]]));
  assert.equal(shrunk.stats.droppedCleanBlocks, 8);
  assert.ok((await shrunk.read(8)).equals(pattern(8, 0)));
  assert.ok((await shrunk.read(9)).equals(pattern(9, 0)));
  await shrunk.putDirty(100, pattern(100, 0));
  await shrunk.putDirty(101, pattern(101, 0));
  await shrunk.close(false);
  assert.equal((await stat(path)).size, fileSize(2 + SPARE_SLOTS, BLOCK_SIZE));

  // 2 dirty + 2 clean into a capacity of 3: both dirty ones and the newer clean one.
  const mixed = new FileCacheStorage(path, { log });
  const mixedContents = await mixed.open(volume({ capacity: 3 }));
  assert.deepEqual(byBlock(mixedContents), new Map([
    [100, { dirty: true, etag: undefined }], [101, { dirty: true, etag: undefined }], [9, { dirty: false, etag: '"e9"' }],
  ]));
  await mixed.close(false);
  // Growing keeps everything.
  const grown = new FileCacheStorage(path, { log });
  assert.equal((await grown.open(volume({ capacity: 50 }))).blocks.length, 3);
  assert.equal((await stat(path)).size, fileSize(50 + SPARE_SLOTS, BLOCK_SIZE));
  assert.ok((await grown.read(101)).equals(pattern(101, 0)));
  assert.ok((await grown.read(9)).equals(pattern(9, 0)));
  await grown.close(false);
});

test('cache-file: an unsaved block beyond the volume\'s end is refused, not dropped', { timeout: 10_000 }, async () => {
  const path = await freshPath();
  const storage = new FileCacheStorage(path);
  await storage.open(volume({ numBlocks: 1024 }));
  await storage.putDirty(900, pattern(900, 0));
  await storage.close(false);
  await rejectsWithCacheFileError(new FileCacheStorage(path).open(volume({ numBlocks: 512 })), /block 00000384: .*beyond the volume's 512 blocks/);
});

test('cache-file: with every slot taken a put fails with a clear error (a cache bug), not silently', { timeout: 10_000 }, async () => {
  const path = await freshPath();
  const storage = new FileCacheStorage(path);
  await storage.open(volume({ capacity: 1 }));
  for (let block = 0; block < 1 + SPARE_SLOTS; block++) await storage.putClean(block, pattern(block, 0), undefined);
  await rejectsWithCacheFileError(storage.putDirty(500, pattern(500, 0)), /block 000001f4: .*has no free slot: all 65 hold blocks/);
  // Rewriting a held block needs a free slot too; once one is removed it works again.
  await storage.remove(0);
  await storage.putDirty(1, pattern(1, 1));
  assert.ok((await storage.read(1)).equals(pattern(1, 1)));
  await storage.close(false);
});

/** node's file calls, with failures switched on by the test: ENOSPC on data writes, EIO on fdatasync. */
function failingIo(path: string, fail: { dataWrite: boolean; datasync: boolean }): CacheFileIo {
  const errno = (code: string) => Object.assign(new Error(`${code}: injected`), { code });
  return {
    ...nodeCacheFileIo,
    async open(file, flags, mode) {
      const handle = await nodeCacheFileIo.open(file, flags, mode);
      if (file !== path) return handle;
      return {
        read: (buffer, offset, length, position) => handle.read(buffer, offset, length, position),
        write: (buffer, offset, length, position) => (fail.dataWrite && length > ENTRY_SIZE ? Promise.reject(errno('ENOSPC')) : handle.write(buffer, offset, length, position)),
        datasync: () => (fail.datasync ? Promise.reject(errno('EIO')) : handle.datasync()),
        sync: () => handle.sync(),
        truncate: (length) => handle.truncate(length),
        stat: () => handle.stat(),
        close: () => handle.close(),
      };
    },
  };
}

test('cache-file: a failed data write leaves the storage usable; a failed fdatasync stops all writes and keeps the token', { timeout: 10_000 }, async () => {
  const path = await freshPath();
  const fail = { dataWrite: false, datasync: false };
  const log = collectingLog();
  const storage = new FileCacheStorage(path, { io: failingIo(path, fail), log });
  await storage.open(volume({ mountToken: 0x5e }));
  await storage.putDirty(1, pattern(1, 0));

  fail.dataWrite = true;
  await rejectsWithCacheFileError(storage.putDirty(2, pattern(2, 0)), /block 00000002: writing cache file .* failed \(ENOSPC: injected\); check the space/);
  fail.dataWrite = false;
  const free = storage.stats.freeSlots;
  await storage.putDirty(2, pattern(2, 0));
  assert.equal(storage.stats.freeSlots, free - 1, 'the slot of the failed write was given back');

  // After a failed fdatasync nothing proves later writes durable (fsyncgate): every write is refused.
  fail.datasync = true;
  await rejectsWithCacheFileError(storage.putDirty(3, pattern(3, 0)), /writing a block failed \(EIO: injected\); nothing more is written to it/);
  fail.datasync = false;
  await rejectsWithCacheFileError(storage.putDirty(4, pattern(4, 0)), /nothing more is written to it/);
  await rejectsWithCacheFileError(storage.markClean(1, '"e1"'), /nothing more is written to it/);
  assert.ok((await storage.read(2)).equals(pattern(2, 0)), 'reads still work');
  assert.ok(log.lines.some((line) => /^error: .*EIO: injected/.test(line)));
  await storage.close(true);
  assert.equal(await readCacheFileToken(path), 0x5e, 'a failed storage never records a clean unmount');

  const again = new FileCacheStorage(path);
  const contents = await again.open(volume());
  assert.deepEqual(byBlock(contents), new Map([[1, { dirty: true, etag: undefined }], [2, { dirty: true, etag: undefined }]]));
  await again.close(false);
});

// ---- write ordering, checked on a recorded trace of the file calls ----

interface IoEvent {
  readonly id: number;
  readonly phase: 'start' | 'end';
  readonly op: 'write' | 'sync';
  readonly position: number;
  readonly length: number;
  /** The bytes of 64-byte writes (directory entries). */
  readonly bytes: Buffer | undefined;
}

/** node's file calls, with every write and (f|fdata)sync of the cache file recorded in call order. */
function recordingIo(path: string, events: IoEvent[]): CacheFileIo {
  let nextId = 0;
  const record = async <T>(op: 'write' | 'sync', position: number, length: number, bytes: Buffer | undefined, call: () => Promise<T>): Promise<T> => {
    const id = nextId++;
    events.push({ id, phase: 'start', op, position, length, bytes });
    const result = await call();
    events.push({ id, phase: 'end', op, position, length, bytes });
    return result;
  };
  return {
    ...nodeCacheFileIo,
    async open(file, flags, mode) {
      const handle = await nodeCacheFileIo.open(file, flags, mode);
      if (file !== path) return handle;
      const wrapped: CacheFileHandle = {
        read: (buffer, offset, length, position) => handle.read(buffer, offset, length, position),
        write: (buffer, offset, length, position) => record('write', position, length,
          length === ENTRY_SIZE ? Buffer.from(buffer.subarray(offset, offset + length)) : undefined,
          () => handle.write(buffer, offset, length, position)),
        datasync: () => record('sync', 0, 0, undefined, () => handle.datasync()),
        sync: () => record('sync', 0, 0, undefined, () => handle.sync()),
        truncate: (length) => handle.truncate(length),
        stat: () => handle.stat(),
        close: () => handle.close(),
      };
      return wrapped;
    },
  };
}

interface Interval { start: number; end: number }
interface EntryWrite extends Interval { slot: number; block: number | undefined; generation: number }
interface DataWrite extends Interval { slot: number }

/**
 * The write-ordering rules of the cache file, checked on a trace (positions are event indices):
 *  1. data before entry: between a data write to a slot and the next entry naming that slot, an
 *     fsync/fdatasync starts after the data write ended and ends before the entry write starts;
 *  2. copy-on-write: no data write goes to a slot whose latest entry names a block;
 *  3. clear before reuse: between clearing a slot's entry and the next data write to it, a sync;
 *  4. new before old: before an entry of a block is cleared or rewritten, its newer entry (if one
 *     was written) is synced; and before a block's newest entry is cleared or rewritten in place,
 *     its older entries' clearing is synced.
 * Returns the violations, empty when the trace follows every rule.
 */
function checkWriteOrder(events: readonly IoEvent[], slotCount: number, blockSize: number): string[] {
  const starts = new Map<number, number>();
  const entries: EntryWrite[] = [];
  const data: DataWrite[] = [];
  const syncs: Interval[] = [];
  const dataStart = dataOffset(slotCount);
  events.forEach((event, index) => {
    if (event.phase === 'start') {
      starts.set(event.id, index);
      return;
    }
    const interval = { start: starts.get(event.id)!, end: index };
    if (event.op === 'sync') syncs.push(interval);
    else if (event.position >= dataStart) data.push({ ...interval, slot: (event.position - dataStart) / blockSize });
    else if (event.position >= entryOffset(0) && event.length === ENTRY_SIZE) {
      const decoded = decodeEntry(event.bytes!);
      if (decoded.kind === 'torn') throw new Error('the storage wrote an invalid entry');
      entries.push({
        ...interval,
        slot: (event.position - entryOffset(0)) / ENTRY_SIZE,
        block: decoded.kind === 'entry' ? decoded.entry.block : undefined,
        generation: decoded.kind === 'entry' ? decoded.entry.generation : 0,
      });
    }
  });
  const byStart = <T extends Interval>(list: T[]) => list.sort((a, b) => a.start - b.start);
  byStart(entries);
  byStart(data);
  const syncedBetween = (after: number, before: number) => syncs.some((sync) => sync.start > after && sync.end < before);
  const latestEntry = (slot: number, before: number) => entries.filter((e) => e.slot === slot && e.start < before).at(-1);
  const violations: string[] = [];

  for (const write of data) {
    const latest = latestEntry(write.slot, write.start);
    if (latest?.block !== undefined) violations.push(`rule 2: data written to slot ${write.slot} while its entry names block ${latest.block}`);
    else if (latest !== undefined && !syncedBetween(latest.end, write.start)) violations.push(`rule 3: slot ${write.slot} reused before its clearing was synced`);
    const next = entries.find((e) => e.slot === write.slot && e.start > write.start && e.block !== undefined);
    if (next !== undefined && !syncedBetween(write.end, next.start)) violations.push(`rule 1: entry for block ${next.block} at slot ${write.slot} written before its data was synced`);
  }
  for (const change of entries) {
    const previous = latestEntry(change.slot, change.start);
    if (previous?.block === undefined) continue; // a free entry gets a new block: rules 1-3 cover it
    const block = previous.block;
    const named = entries.filter((e) => e.block === block && e.start < change.start);
    const newer = named.filter((e) => e.generation > previous.generation && e.slot !== change.slot);
    for (const entry of newer) {
      if (!syncedBetween(entry.end, change.start)) violations.push(`rule 4: old entry of block ${block} at slot ${change.slot} changed before the newer one at slot ${entry.slot} was synced`);
    }
    if (newer.length > 0) continue;
    for (const older of named.filter((e) => e.generation < previous.generation && e.slot !== change.slot)) {
      const overwrite = entries.find((e) => e.slot === older.slot && e.start > older.start);
      if (overwrite === undefined || !syncedBetween(overwrite.end, change.start)) {
        violations.push(`rule 4: newest entry of block ${block} at slot ${change.slot} changed before its older entry at slot ${older.slot} was cleared and synced`);
      }
    }
  }
  return violations;
}

test('cache-file: the ordering checker catches each broken rule', { timeout: 5_000 }, () => {
  const slotCount = 4;
  const data = (id: number, slot: number): IoEvent[] => ['start', 'end'].map((phase) => ({ id, phase, op: 'write', position: slotOffset(slotCount, BLOCK_SIZE, slot), length: BLOCK_SIZE, bytes: undefined }) as IoEvent);
  const entry = (id: number, slot: number, block: number | undefined, generation: number): IoEvent[] => {
    const bytes = block === undefined ? Buffer.alloc(ENTRY_SIZE) : encodeEntry({ generation, block, dirty: true, etag: undefined });
    return ['start', 'end'].map((phase) => ({ id, phase, op: 'write', position: entryOffset(slot), length: ENTRY_SIZE, bytes }) as IoEvent);
  };
  const sync = (id: number): IoEvent[] => ['start', 'end'].map((phase) => ({ id, phase, op: 'sync', position: 0, length: 0, bytes: undefined }) as IoEvent);
  const good = [...data(1, 0), ...sync(2), ...entry(3, 0, 9, 1), ...data(4, 1), ...sync(5), ...entry(6, 1, 9, 2), ...sync(7), ...entry(8, 0, undefined, 0), ...sync(9), ...data(10, 0)];
  assert.deepEqual(checkWriteOrder(good, slotCount, BLOCK_SIZE), []);
  assert.match(checkWriteOrder([...data(1, 0), ...entry(3, 0, 9, 1)], slotCount, BLOCK_SIZE).join(), /rule 1/);
  assert.match(checkWriteOrder([...data(1, 0), ...sync(2), ...entry(3, 0, 9, 1), ...data(4, 0)], slotCount, BLOCK_SIZE).join(), /rule 2/);
  assert.match(checkWriteOrder([...good.slice(0, -4), ...data(10, 0)], slotCount, BLOCK_SIZE).join(), /rule 3/);
  assert.match(checkWriteOrder([...good.slice(0, 12), ...entry(8, 0, undefined, 0)], slotCount, BLOCK_SIZE).join(), /rule 4: old entry/);
  assert.match(checkWriteOrder([...good.slice(0, 12), ...entry(8, 1, undefined, 0)], slotCount, BLOCK_SIZE).join(), /rule 4: newest entry/);
});

test('cache-file: data is synced before the entry naming it, old entries go only after new ones are synced', { timeout: 20_000 }, async () => {
  const path = await freshPath();
  const events: IoEvent[] = [];
  const capacity = 16;
  const storage = new FileCacheStorage(path, { io: recordingIo(path, events) });
  await storage.open(volume({ capacity }));
  // Eight concurrent writers over 16 blocks: rewrites (copy-on-write), uploads (markClean),
  // evictions (remove) and reloads (putClean), each block's calls one after another as the cache makes them.
  const writer = async (w: number) => {
    for (let round = 0; round < 12; round++) {
      for (const block of [w, w + 8]) {
        await storage.putDirty(block, pattern(block, round));
        if (round % 3 === 1) await storage.markClean(block, `"e${block}-${round}"`);
        if (round % 4 === 3) {
          await storage.remove(block);
          await storage.putClean(block, pattern(block, round), `"c${block}-${round}"`);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, (_, w) => writer(w)));
  await storage.close(false);

  const slotCount = capacity + SPARE_SLOTS;
  assert.deepEqual(checkWriteOrder(events, slotCount, BLOCK_SIZE), []);
  // The trace did exercise every path (a vacuous trace would pass the rules trivially).
  const writes = events.filter((e) => e.phase === 'start' && e.op === 'write');
  const clears = writes.filter((e) => e.bytes !== undefined && e.bytes.every((byte) => byte === 0));
  assert.ok(writes.filter((e) => e.position >= dataOffset(slotCount)).length >= 16 * 12);
  assert.ok(clears.length >= 16 * 10, `only ${clears.length} clearings`);
  const reused = new Set<number>();
  const seen = new Set<number>();
  for (const e of writes) {
    if (e.position < dataOffset(slotCount)) continue;
    if (seen.has(e.position)) reused.add(e.position);
    seen.add(e.position);
  }
  assert.ok(reused.size > 0, 'slots were reused');

  const again = new FileCacheStorage(path);
  const contents = await again.open(volume({ capacity }));
  assert.equal(contents.blocks.length, 16);
  for (let block = 0; block < 16; block++) assert.ok((await again.read(block)).equals(pattern(block, 11)));
  await again.close(false);
});

// ---- group commit ----

async function writeBurst(groupCommit: boolean, options: { writers: number; perWriter: number; blockSize: number }) {
  const path = await freshPath(`burst-${groupCommit}`);
  const storage = new FileCacheStorage(path, { groupCommit });
  const blocks = options.writers * options.perWriter;
  await storage.open(volume({ blockSize: options.blockSize, capacity: blocks, numBlocks: blocks }));
  const buffers = Array.from({ length: options.writers }, (_, w) => Buffer.alloc(options.blockSize, w + 1));
  const began = performance.now();
  await Promise.all(buffers.map(async (buffer, w) => {
    for (let i = 0; i < options.perWriter; i++) await storage.putDirty(w * options.perWriter + i, buffer);
  }));
  const seconds = (performance.now() - began) / 1000;
  const syncs = storage.stats.fdatasyncs;
  await storage.close(false);
  await rm(path);
  return { mbPerSecond: (blocks * options.blockSize) / seconds / 1e6, syncsPerBlock: syncs / blocks };
}

test('cache-file: concurrent putDirty calls share fdatasyncs (group commit)', { timeout: 60_000 }, async (t) => {
  const shape = { writers: 32, perWriter: 16, blockSize: 65536 };
  const grouped = await writeBurst(true, shape);
  const single = await writeBurst(false, shape);
  t.diagnostic(`64 KiB putDirty, 32 writers: group commit ${grouped.mbPerSecond.toFixed(0)} MB/s, ${grouped.syncsPerBlock.toFixed(3)} fdatasyncs/block; `
    + `without ${single.mbPerSecond.toFixed(0)} MB/s, ${single.syncsPerBlock.toFixed(3)} fdatasyncs/block`);
  assert.ok(single.syncsPerBlock >= 1, 'without group commit every block pays its own fdatasync');
  assert.ok(grouped.syncsPerBlock < 0.5, `group commit should share fdatasyncs, got ${grouped.syncsPerBlock} per block`);
});
