import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine.js';
import { MemoryStore, memoryPlugin, type MemoryVolume } from '../../plugins/memory/index.js';
import { zeroMapPlugin } from '../../plugins/zero-map/index.js';
import { deflatePlugin } from '../../plugins/compress-deflate/index.js';
import { BlockGeometry } from '../../src/engine/block-geometry.js';
import { encryptPlugin, keyCheckKey, isKeyCheckKey, deleteKeyCheck, KEY_CHECK_NAME } from '../../plugins/encrypt-hmac/index.js';
import { isS3BackerError } from '../../src/errors/s3backer-error.js';
import type { ErrorCode } from '../../src/errors/codes.js';
import { testConfig } from '../helpers/test-config.js';
import { loadFixtureCases, fixturePlaintext, fixtureToStored, type FixtureCase } from '../helpers/c-fixtures.js';

const T = { timeout: 30_000 };
const PASSWORD = 'correct-horse';
const BLOCK = 4096;
const pattern = (block: number) => fixturePlaintext('pattern', block, BLOCK);
const fixtures = loadFixtureCases() as Array<FixtureCase & { bucket: string }>;
const fixture = (name: string) => fixtures.find((c) => c.name === name)!;

interface MountOptions { bucket?: string; prefix?: string; password?: string; cipher?: string; keyLength?: number; size?: number; readOnly?: boolean }

function engineFor(volume: MemoryVolume, options: MountOptions = {}): Engine {
  return Engine.create(testConfig({
    store: 'memory', bucket: options.bucket ?? 'b', prefix: options.prefix ?? '', readOnly: options.readOnly ?? false,
    ...(options.size === undefined ? {} : { size: options.size, blockSize: BLOCK }),
  }), [
    memoryPlugin({ volume }), zeroMapPlugin(), deflatePlugin({ encode: true }),
    encryptPlugin({ password: options.password ?? PASSWORD, ...(options.cipher ? { cipher: options.cipher } : {}), ...(options.keyLength ? { keyLength: options.keyLength } : {}) }),
  ]);
}

function volumeOf(c: FixtureCase): MemoryVolume {
  return new Map(c.objects.map((object) => [object.key, fixtureToStored(object)]));
}

/** Every key with its ETag and body: a changed, added or removed object changes it. */
function snapshot(volume: MemoryVolume): string[] {
  return [...volume].map(([key, object]) => `${key} ${object.etag} ${object.body.toString('base64')}`).sort();
}

async function writeBlocks(volume: MemoryVolume, blocks: number[], options: MountOptions = {}): Promise<void> {
  const engine = engineFor(volume, { size: 64 * BLOCK, ...options });
  const device = await engine.mount();
  for (const block of blocks) await device.write(block * BLOCK, pattern(block));
  await engine.shutdown();
}

/** The mount fails with `code` and the volume is exactly as before. */
async function assertMountRefused(volume: MemoryVolume, options: MountOptions, code: ErrorCode, message: RegExp): Promise<void> {
  const before = snapshot(volume);
  await assert.rejects(engineFor(volume, options).mount(), (e) => {
    assert.ok(isS3BackerError(e), String(e));
    assert.equal(e.code, code, e.message);
    assert.match(e.message, message);
    return true;
  });
  assert.deepEqual(snapshot(volume), before, 'nothing stored, changed or left behind');
}

test('a wrong password on a volume of ours (key check present) is refused at mount and stores nothing', T, async () => {
  const volume: MemoryVolume = new Map();
  await writeBlocks(volume, [0, 1, 2]);
  assert.ok(volume.has(KEY_CHECK_NAME));
  await assertMountRefused(volume, { password: 'wrong-horse' }, 'S3B_WRONG_PASSWORD',
    /the password does not match the one this volume was encrypted with \(checked against "s3backer-keycheck"\); nothing was written/);
  await assertMountRefused(volume, { password: 'wrong-horse', readOnly: true }, 'S3B_WRONG_PASSWORD', /password does not match/);
  // The right password still mounts and reads.
  const engine = engineFor(volume);
  const device = await engine.mount();
  assert.ok((await device.read(BLOCK, BLOCK)).equals(pattern(1)));
  await engine.shutdown();
});

test('a wrong password on an empty volume that an earlier mount started is refused: the key check keeps its password', T, async () => {
  const volume: MemoryVolume = new Map();
  await writeBlocks(volume, []);
  assert.deepEqual([...volume.keys()], [KEY_CHECK_NAME]);
  await assertMountRefused(volume, { password: 'other', size: 64 * BLOCK }, 'S3B_WRONG_PASSWORD', /password does not match/);
});

test('a C-written volume (no key check) with a wrong password is refused by its block\'s HMAC, and stores nothing', T, async () => {
  for (const name of ['encrypt', 'encrypt-prefix']) {
    const c = fixture(name);
    const volume = volumeOf(c);
    await assertMountRefused(volume, { bucket: c.bucket, prefix: c.prefix, password: 'wrong-horse' }, 'S3B_WRONG_PASSWORD',
      new RegExp(`^block 00000000: the password does not match.*nothing was written.*salt "${c.bucket}/${c.prefix}"`));
    assert.ok(!volume.has(keyCheckKey(c.prefix)));
  }
});

test('a C-written volume whose block 0 is missing is checked against the first block the listing shows', T, async () => {
  const c = fixture('encrypt-prefix');
  const volume = volumeOf(c);
  volume.delete('vol1/00000000');
  await assertMountRefused(volume, { bucket: c.bucket, prefix: c.prefix, password: 'wrong-horse', size: c.size }, 'S3B_WRONG_PASSWORD', /^block 00000001: the password does not match/);
  const engine = engineFor(volume, { bucket: c.bucket, prefix: c.prefix, size: c.size });
  const device = await engine.mount();
  assert.ok((await device.read(5 * BLOCK, BLOCK)).equals(pattern(5)));
  await engine.shutdown();
  assert.ok(volume.has('vol1/' + KEY_CHECK_NAME));
});

test('the right password on a C-written volume records the key check; a wrong one is then refused by it', T, async () => {
  const c = fixture('encrypt');
  const volume = volumeOf(c);
  const engine = engineFor(volume, { bucket: c.bucket });
  await engine.mount();
  await engine.shutdown();
  const check = volume.get(KEY_CHECK_NAME)!;
  assert.equal(check.contentType, 'application/json');
  assert.equal(JSON.parse(check.body.toString()).cipher, 'AES-128-CBC');
  // The key check is not a block of the volume: the C tool's listing (and ours) skips it.
  assert.equal(new BlockGeometry(c.size, BLOCK, '').parseKey(KEY_CHECK_NAME), undefined);
  await assertMountRefused(volume, { bucket: c.bucket, password: 'wrong-horse' }, 'S3B_WRONG_PASSWORD', /checked against "s3backer-keycheck"/);
});

test('a read-only mount with the right password checks the block but writes no key check; a wrong one is refused', T, async () => {
  const c = fixture('encrypt');
  const volume = volumeOf(c);
  const before = snapshot(volume);
  const engine = engineFor(volume, { bucket: c.bucket, readOnly: true });
  const device = await engine.mount();
  assert.ok((await device.read(2 * BLOCK, BLOCK)).equals(fixturePlaintext('text', 2, BLOCK)));
  await engine.shutdown();
  assert.deepEqual(snapshot(volume), before);
  assert.ok(!volume.has(KEY_CHECK_NAME));
  await assertMountRefused(volume, { bucket: c.bucket, readOnly: true, password: 'nope' }, 'S3B_WRONG_PASSWORD', /password does not match/);
});

test('another cipher or --keyLength than the volume\'s is refused at mount, saying what the volume was written with', T, async () => {
  const ours: MemoryVolume = new Map();
  await writeBlocks(ours, [0, 1]);
  await assertMountRefused(ours, { cipher: 'AES-256-CBC' }, 'S3B_WRONG_PASSWORD',
    /encrypted with AES-128-CBC and a 16-byte key .*this mount uses AES-256-CBC with a 32-byte key; mount with --encrypt=AES-128-CBC --keyLength=16/);
  await assertMountRefused(ours, { keyLength: 32 }, 'S3B_WRONG_PASSWORD', /mount with --encrypt=AES-128-CBC --keyLength=16/);

  const c = fixture('aes256');
  await assertMountRefused(volumeOf(c), { bucket: c.bucket }, 'S3B_WRONG_PASSWORD',
    /^block 00000000: the volume is encrypted with AES-256-CBC, but this mount uses AES-128-CBC; mount with --encrypt=AES-256-CBC/);
});

test('a plain (unencrypted) volume mounted with encryption is refused clearly, and nothing is written', T, async () => {
  for (const name of ['plain', 'deflate']) {
    const c = fixture(name);
    await assertMountRefused(volumeOf(c), { bucket: c.bucket }, 'S3B_CONFIG_INVALID',
      /^block 00000000: the volume holds unencrypted blocks .*would mix encrypted and plain blocks.*mount without --encrypt/);
  }
});

test('a malformed key check is reported as such (not as a wrong password); deleted, the next mount re-creates it', T, async () => {
  const volume: MemoryVolume = new Map();
  await writeBlocks(volume, [0, 1]);
  const good = volume.get(KEY_CHECK_NAME)!;
  for (const body of ['not json', '[]', '{"format":"s3backer-keycheck","version":2}', JSON.stringify({ ...JSON.parse(good.body.toString()), iterations: 1 }), JSON.stringify({ ...JSON.parse(good.body.toString()), check: 'xyz' })]) {
    volume.set(KEY_CHECK_NAME, { ...good, body: Buffer.from(body) });
    await assertMountRefused(volume, {}, 'S3B_DECODE_FAILED', /key-check object "s3backer-keycheck" is not a valid s3backer key check .*delete that object/);
  }
  await deleteKeyCheck(new MemoryStore(volume), '');
  assert.ok(!volume.has(KEY_CHECK_NAME));
  await assertMountRefused(volume, { password: 'wrong' }, 'S3B_WRONG_PASSWORD', /^block 00000000: the password does not match/);
  const engine = engineFor(volume);
  await engine.mount();
  await engine.shutdown();
  assert.ok(volume.get(KEY_CHECK_NAME)!.body.equals(good.body), 'the same password writes the same key check');
});

test('the key check object is named <prefix>s3backer-keycheck and recognised for --erase', T, () => {
  assert.equal(keyCheckKey(''), 's3backer-keycheck');
  assert.equal(keyCheckKey('vol1/'), 'vol1/s3backer-keycheck');
  assert.ok(isKeyCheckKey('vol1/s3backer-keycheck', 'vol1/'));
  assert.ok(!isKeyCheckKey('s3backer-keycheck', 'vol1/'));
  assert.ok(!isKeyCheckKey('vol1/00000000', 'vol1/'));
});
