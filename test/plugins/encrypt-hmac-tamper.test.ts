import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Engine } from '../../src/engine/engine.js';
import { memoryPlugin, type MemoryVolume } from '../../plugins/memory/index.js';
import { zeroMapPlugin } from '../../plugins/zero-map/index.js';
import { deflatePlugin } from '../../plugins/compress-deflate/index.js';
import { encryptPlugin, deriveKeys, encryptionSalt, blockHmac, formatHmacMeta, keyCheckKey, decryptBlock, resolveCipher } from '../../plugins/encrypt-hmac/index.js';
import { isS3BackerError } from '../../src/errors/s3backer-error.js';
import type { ErrorCode } from '../../src/errors/codes.js';
import type { StoredObject } from '../../src/engine/object-store.js';
import { testConfig } from '../helpers/test-config.js';
import { fixturePlaintext } from '../helpers/c-fixtures.js';

const T = { timeout: 30_000 };
const PASSWORD = 'correct-horse';
const BLOCK = 4096;
const pattern = (block: number) => fixturePlaintext('pattern', block, BLOCK);

function engineFor(volume: MemoryVolume, options: { bucket?: string; prefix?: string; password?: string } = {}): Engine {
  return Engine.create(testConfig({ store: 'memory', bucket: options.bucket ?? 'b', prefix: options.prefix ?? '', size: 64 * BLOCK, blockSize: BLOCK }), [
    memoryPlugin({ volume }), zeroMapPlugin(), deflatePlugin({ encode: true }), encryptPlugin({ password: options.password ?? PASSWORD }),
  ]);
}

/** A volume of ours: blocks 0 to 3 hold pattern data (and the key check exists). */
async function writtenVolume(options: { bucket?: string; prefix?: string } = {}): Promise<MemoryVolume> {
  const volume: MemoryVolume = new Map();
  const engine = engineFor(volume, options);
  const device = await engine.mount();
  for (let block = 0; block < 4; block++) await device.write(block * BLOCK, pattern(block));
  await engine.shutdown();
  assert.ok(volume.has(keyCheckKey(options.prefix ?? '')));
  return volume;
}

function copyOf(object: StoredObject): StoredObject {
  return { ...object, metadata: { ...object.metadata }, body: Buffer.from(object.body) };
}

/** Mount `volume`, read `block`: the read must fail with `code`, name the block, and return nothing. */
async function assertReadRefused(volume: MemoryVolume, block: number, code: ErrorCode, message: RegExp, options: { bucket?: string; prefix?: string } = {}): Promise<void> {
  const engine = engineFor(volume, options);
  const device = await engine.mount();
  let returned: Buffer | undefined;
  await assert.rejects(device.read(block * BLOCK, BLOCK).then((data) => { returned = data; }), (e) => {
    assert.ok(isS3BackerError(e), String(e));
    assert.equal(e.code, code, e.message);
    assert.equal(e.block, block);
    assert.ok(e.message.startsWith(`block ${block.toString(16).padStart(8, '0')}: `), e.message);
    assert.match(e.message, message);
    return true;
  });
  assert.equal(returned, undefined);
  // The other blocks are untouched and still read: the refusal is about that object alone.
  const other = block === 0 ? 1 : 0;
  assert.ok((await device.read(other * BLOCK, BLOCK)).equals(pattern(other)));
  await engine.shutdown();
}

test('control: the untampered volume reads back', T, async () => {
  const volume = await writtenVolume();
  const engine = engineFor(volume);
  const device = await engine.mount();
  for (let block = 0; block < 4; block++) assert.ok((await device.read(block * BLOCK, BLOCK)).equals(pattern(block)));
  await engine.shutdown();
});

test('a flipped byte anywhere in the body fails authentication', T, async () => {
  const volume = await writtenVolume();
  for (const where of [0, 17, -1]) {
    const tampered = new Map(volume);
    const object = copyOf(volume.get('00000002')!);
    const index = where < 0 ? object.body.length + where : where;
    object.body[index]! ^= 0x01;
    tampered.set('00000002', object);
    await assertReadRefused(tampered, 2, 'S3B_AUTH_FAILED', /incorrect signature/);
  }
});

test('a truncated body fails authentication', T, async () => {
  const volume = await writtenVolume();
  for (const keep of [0, 16, -16]) {
    const tampered = new Map(volume);
    const object = copyOf(volume.get('00000001')!);
    object.body = object.body.subarray(0, keep < 0 ? object.body.length + keep : keep);
    object.size = object.body.length;
    tampered.set('00000001', object);
    await assertReadRefused(tampered, 1, 'S3B_AUTH_FAILED', /incorrect signature/);
  }
});

test('an object copied onto another block number (same bytes, same HMAC header) fails authentication', T, async () => {
  const volume = await writtenVolume();
  for (const target of [2, 9]) {
    const tampered = new Map(volume);
    tampered.set(target.toString(16).padStart(8, '0'), copyOf(volume.get('00000001')!));
    await assertReadRefused(tampered, target, 'S3B_AUTH_FAILED', /incorrect signature/);
  }
});

test('a missing or malformed s3backer-hmac fails authentication: no signature', T, async () => {
  const volume = await writtenVolume();
  for (const value of [undefined, '', 'not-hex', '"' + 'g'.repeat(40) + '"', '"' + '0'.repeat(39) + '"']) {
    const tampered = new Map(volume);
    const object = copyOf(volume.get('00000003')!);
    if (value === undefined) delete object.metadata['s3backer-hmac'];
    else object.metadata['s3backer-hmac'] = value;
    tampered.set('00000003', object);
    await assertReadRefused(tampered, 3, 'S3B_AUTH_FAILED', /no signature/);
  }
});

test('a plain object put in place of an encrypted one is refused before any decoder runs', T, async () => {
  const volume = await writtenVolume();
  const plain = (contentEncoding?: string, body = pattern(1)): StoredObject => ({
    body, etag: '"plain"', size: body.length, metadata: {}, contentType: 'application/x-s3backer-block', ...(contentEncoding ? { contentEncoding } : {}),
  });
  const cases: Array<[StoredObject, RegExp]> = [
    [plain(), /not encrypted \(stored with no Content-Encoding\).*supposed to be encrypted with AES-128-CBC/],
    [plain('deflate', (await import('node:zlib')).deflateSync(pattern(1))), /not encrypted \(stored with Content-Encoding "deflate"\)/],
    [{ ...copyOf(volume.get('00000001')!), contentEncoding: 'deflate, encrypt-AES-256-CBC' }, /encrypted with AES-256-CBC, but this mount uses AES-128-CBC; mount with --encrypt=AES-256-CBC/],
    [{ ...copyOf(volume.get('00000001')!), contentEncoding: 'encrypt-AES-128-CBC, deflate' }, /"deflate" was applied over the encryption/],
  ];
  for (const [object, message] of cases) {
    const tampered = new Map(volume);
    tampered.set('00000001', object);
    await assertReadRefused(tampered, 1, 'S3B_AUTH_FAILED', message);
  }
});

test('a relabelled Content-Encoding passes the HMAC (the C format does not sign it) but never decodes to data', T, async () => {
  const volume = await writtenVolume();
  const cases: Array<[string, ErrorCode, RegExp]> = [
    // The HMAC is valid, the inner body is the compressed block, which is not a block: wrong length.
    ['encrypt-AES-128-CBC', 'S3B_BLOCK_CORRUPT', /decodes to \d+ bytes, not the block size 4096/],
    // Inflating the (already inflated) block fails in zlib.
    ['deflate, deflate, encrypt-AES-128-CBC', 'S3B_DECODE_FAILED', /does not decode as "deflate"/],
    // No zstd decoder is configured here: the relabelled token cannot even be tried.
    ['zstd, encrypt-AES-128-CBC', 'S3B_UNKNOWN_ENCODING', /no configured plugin decodes "zstd"/],
  ];
  for (const [contentEncoding, code, message] of cases) {
    const tampered = new Map(volume);
    tampered.set('00000002', { ...copyOf(volume.get('00000002')!), contentEncoding });
    await assertReadRefused(tampered, 2, code, message);
  }
});

test('a body with a valid HMAC that does not decrypt (bad padding) is S3B_DECODE_FAILED, not data', T, async () => {
  const volume = await writtenVolume();
  const tampered = new Map(volume);
  // Random ciphertext decrypts to random padding (valid about once in 200): signed with the real
  // key, so only decryption can catch it.
  const keys = await deriveKeys(PASSWORD, encryptionSalt('b', ''), 16);
  let body = randomBytes(64);
  for (let tries = 0; decrypts(body); tries++) {
    assert.ok(tries < 1000, 'random bodies should almost never have valid padding');
    body = randomBytes(64);
  }
  function decrypts(candidate: Buffer): boolean {
    try { decryptBlock(resolveCipher('AES-128-CBC'), keys, 2, candidate); return true; } catch { return false; }
  }
  tampered.set('00000002', { ...copyOf(volume.get('00000002')!), body, size: 64, metadata: { 's3backer-hmac': formatHmacMeta(blockHmac(keys.key, 'AES-128-CBC', 2, body)) } });
  await assertReadRefused(tampered, 2, 'S3B_DECODE_FAILED', /signature is valid but the body does not decrypt with AES-128-CBC/);
});

test('the salt is bucket + "/" + prefix: bucket/subdir differs from the bucket alone and from another bucket', T, async () => {
  assert.equal(encryptionSalt('b', 'sub/'), 'b/sub/');
  assert.equal(encryptionSalt('b', ''), 'b/');
  const keys = await Promise.all([['b', 'sub/'], ['b', ''], ['c', 'sub/']].map(([bucket, prefix]) => deriveKeys(PASSWORD, encryptionSalt(bucket!, prefix!), 16)));
  assert.equal(new Set(keys.map((k) => k.key.toString('hex'))).size, 3);
  assert.equal(new Set(keys.map((k) => k.ivkey.toString('hex'))).size, 3);
});

test('a volume written under bucket "b" prefix "sub/" does not authenticate under another bucket or prefix', T, async () => {
  const volume = await writtenVolume({ bucket: 'b', prefix: 'sub/' });
  // Another bucket, same prefix and password: the key check refuses the mount.
  await assert.rejects(engineFor(volume, { bucket: 'c', prefix: 'sub/' }).mount(), (e) =>
    isS3BackerError(e, 'S3B_WRONG_PASSWORD') && /salt "c\/sub\/"/.test(e.message));
  // Without its key check (a C-written volume), a block's HMAC refuses it.
  const bare = new Map(volume);
  bare.delete(keyCheckKey('sub/'));
  await assert.rejects(engineFor(bare, { bucket: 'c', prefix: 'sub/' }).mount(), (e) =>
    isS3BackerError(e, 'S3B_WRONG_PASSWORD') && e.block === 0 && /signature does not verify/.test(e.message));

  // Objects moved to the bucket's root (same bucket, same password): each block fails authentication.
  const root = await writtenVolume({ bucket: 'b', prefix: '' });
  root.set('00000009', copyOf(volume.get('sub/00000001')!));
  await assertReadRefused(root, 9, 'S3B_AUTH_FAILED', /incorrect signature \(did you provide the right password\?\)/);
  const moved = new Map([...volume].filter(([key]) => key.startsWith('sub/0')).map(([key, object]) => [key.slice(4), copyOf(object)]));
  await assert.rejects(engineFor(moved, { bucket: 'b', prefix: '' }).mount(), (e) => isS3BackerError(e, 'S3B_WRONG_PASSWORD'));
  // Under its own bucket and prefix it still reads.
  const engine = engineFor(volume, { bucket: 'b', prefix: 'sub/' });
  const device = await engine.mount();
  assert.ok((await device.read(BLOCK, BLOCK)).equals(pattern(1)));
  await engine.shutdown();
});
