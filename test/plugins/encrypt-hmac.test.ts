import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv, createHmac, getCiphers, randomBytes } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import { Engine } from '../../src/engine/engine.js';
import { memoryPlugin, type MemoryVolume } from '../../plugins/memory/index.js';
import { zeroMapPlugin } from '../../plugins/zero-map/index.js';
import { deflatePlugin } from '../../plugins/compress-deflate/index.js';
import {
  encryptPlugin, ENCRYPT_PLUGIN_NAME, acceptedCipherNames, deriveKeys, encryptionSalt, blockIv, blockHmac, formatHmacMeta,
  keyCheckKey, KEY_CHECK_NAME, type CipherSpec, resolveCipher, BlockIvs, BlockCrypt,
} from '../../plugins/encrypt-hmac/index.js';
import { isS3BackerError } from '../../src/errors/s3backer-error.js';
import { testConfig } from '../helpers/test-config.js';
import {
  loadFixtureCases, assertFixturePlaintext, assertStoredAsFixture, fixturePlaintext, fixtureVolume as volumeOf, writeFixturePlaintext, type FixtureCase,
} from '../helpers/c-fixtures.js';

/** The fields of an encrypted case that the shared FixtureCase type leaves out (test/fixtures/c-s3backer/README.md). */
interface EncryptedFixture extends FixtureCase {
  bucket: string;
  password: string;
  encryption: string;
  derivedCrypto: { salt: string; keyHex: string; ivkeyHex: string; ivHexByBlock: Record<string, string> };
}

const T = { timeout: 30_000 };
const PASSWORD = 'correct-horse';
const encrypted = loadFixtureCases().filter((c) => c.encryption) as EncryptedFixture[];
assert.deepEqual(encrypted.map((c) => c.name).sort(), ['aes256', 'encrypt', 'encrypt-prefix']);

function engineFor(volume: MemoryVolume, options: {
  bucket?: string; prefix?: string; password?: string; cipher?: string; keyLength?: number; size?: number; blockSize?: number; readOnly?: boolean;
} = {}): Engine {
  return Engine.create(testConfig({
    store: 'memory', bucket: options.bucket ?? 'b', prefix: options.prefix ?? '', readOnly: options.readOnly ?? false,
    ...(options.size === undefined ? {} : { size: options.size, blockSize: options.blockSize ?? 4096 }),
  }), [
    memoryPlugin({ volume }), zeroMapPlugin(), deflatePlugin({ encode: true }),
    encryptPlugin({ password: options.password ?? PASSWORD, ...(options.cipher === undefined ? {} : { cipher: options.cipher }), ...(options.keyLength === undefined ? {} : { keyLength: options.keyLength }) }),
  ]);
}

/**
 * The IV rule written differently from block-iv.ts: CBC with a zero IV over (ASCII %08x(b) + zeros)
 * XOR ivkey, which is ECB of that XOR, the README's formulation. Only the cipher's block size of it.
 */
function referenceIv(nodeName: string, keyLength: number, blockSize: number, ivkey: Buffer, block: number): Buffer {
  const source = Buffer.alloc(blockSize);
  source.write(block.toString(16).padStart(8, '0').slice(0, blockSize), 'latin1');
  for (let i = 0; i < blockSize; i++) source[i]! ^= ivkey[i]!;
  const ecb = createCipheriv(nodeName, ivkey.subarray(0, keyLength), Buffer.alloc(blockSize));
  ecb.setAutoPadding(false);
  return ecb.update(source);
}

/** Decrypt and inflate a stored body with the reference IV, independently of the plugin's code. */
function referenceOpen(spec: CipherSpec, key: Buffer, ivkey: Buffer, block: number, body: Buffer): Buffer {
  const decipher = createDecipheriv(spec.nodeName, key.subarray(0, spec.keyLength), referenceIv(spec.nodeName, spec.keyLength, spec.blockSize, ivkey, block));
  return inflateSync(Buffer.concat([decipher.update(body), decipher.final()]));
}

const pattern = (block: number, blockSize = 4096) => fixturePlaintext('pattern', block, blockSize);

for (const fixture of encrypted) {
  test(`C fixture "${fixture.name}": salt, key, ivkey and every block's IV equal the C tool's`, T, async () => {
    const crypto = fixture.derivedCrypto;
    assert.equal(encryptionSalt(fixture.bucket, fixture.prefix), crypto.salt);
    const keys = await deriveKeys(fixture.password, crypto.salt, crypto.keyHex.length / 2);
    assert.equal(keys.key.toString('hex'), crypto.keyHex);
    assert.equal(keys.ivkey.toString('hex'), crypto.ivkeyHex);
    const spec = resolveCipher(fixture.encryption);
    assert.ok(Object.keys(crypto.ivHexByBlock).length >= 5);
    for (const [block, ivHex] of Object.entries(crypto.ivHexByBlock)) {
      assert.equal(blockIv(spec, keys.ivkey, Number(block)).toString('hex'), ivHex, `block ${block}`);
      assert.equal(referenceIv(spec.nodeName, spec.keyLength, spec.blockSize, keys.ivkey, Number(block)).toString('hex'), ivHex, `block ${block} (reference)`);
    }
    for (const object of fixture.objects.filter((o) => o.headers['x-amz-meta-s3backer-hmac'])) {
      const body = Buffer.from(object.bodyBase64, 'base64');
      assert.equal(formatHmacMeta(blockHmac(keys.key, spec.name, object.block, body)), object.headers['x-amz-meta-s3backer-hmac'], object.key);
    }
  });

  test(`C fixture "${fixture.name}": mounts with auto-detected geometry (its block's HMAC checked) and reads the exact plaintext`, T, async () => {
    const volume = volumeOf(fixture);
    assert.ok(!volume.has(keyCheckKey(fixture.prefix)), 'a C volume has no key-check object');
    const engine = engineFor(volume, { bucket: fixture.bucket, prefix: fixture.prefix, cipher: fixture.encryption });
    const device = await engine.mount();
    assert.equal(device.size, fixture.size);
    assert.equal(device.geometry.blockSize, fixture.blockSize);
    await assertFixturePlaintext(device, fixture);
    assert.ok((await device.read(7 * fixture.blockSize, fixture.blockSize)).equals(Buffer.alloc(fixture.blockSize)), 'a never-written block reads as zeros');
    await engine.shutdown();
    assert.ok(volume.has(keyCheckKey(fixture.prefix)), 'the read-write mount recorded the key check');
  });

  test(`C fixture "${fixture.name}": writing the same plaintext stores byte-identical bodies, Content-Encoding and s3backer-hmac`, T, async () => {
    const volume: MemoryVolume = new Map();
    const engine = engineFor(volume, { bucket: fixture.bucket, prefix: fixture.prefix, cipher: fixture.encryption, size: fixture.size, blockSize: fixture.blockSize });
    await writeFixturePlaintext(await engine.mount(), fixture);
    await engine.shutdown();

    // The C tool's objects (s3backer-hmac, block 0's sizes) plus the key check, nothing else.
    const checkKey = fixture.prefix + KEY_CHECK_NAME;
    assertStoredAsFixture(volume, fixture, [checkKey]);

    const check = volume.get(checkKey)!;
    assert.equal(check.contentType, 'application/json');
    assert.equal(check.contentEncoding, undefined);
    const key = Buffer.from(fixture.derivedCrypto.keyHex, 'hex');
    assert.equal(check.body.toString(), JSON.stringify({
      format: 's3backer-keycheck', version: 1, cipher: fixture.encryption, keyLength: key.length, kdf: 'PBKDF2-HMAC-SHA1', iterations: 5000,
      check: createHmac('sha1', key).update(`s3backer-keycheck:${fixture.encryption}`).digest('hex'),
    }));
  });
}

test('the accepted ciphers are the CBC block ciphers this OpenSSL can use, by canonical name', T, () => {
  const names = acceptedCipherNames();
  for (const name of ['AES-128-CBC', 'AES-192-CBC', 'AES-256-CBC', 'ARIA-128-CBC', 'CAMELLIA-256-CBC', 'SM4-CBC', 'DES-EDE3-CBC']) {
    if (getCiphers().includes(name.toLowerCase())) assert.ok(names.includes(name), name);
  }
  for (const name of names) {
    assert.equal(name, name.toUpperCase());
    assert.match(name, /-CBC$/, `${name}: only CBC modes pass the C rule`);
    assert.doesNotMatch(name, /HMAC/, `${name}: the stitched TLS ciphers do not pad`);
  }
});

for (const cipher of acceptedCipherNames()) {
  test(`${cipher}: round-trips through the engine, and the stored bytes follow the C rules`, T, async () => {
    const volume: MemoryVolume = new Map();
    const spec = resolveCipher(cipher);
    let engine = engineFor(volume, { cipher, size: 64 * 1024 });
    let device = await engine.mount();
    await device.write(0, pattern(0));
    await device.write(3 * 4096, pattern(3));
    await engine.shutdown();

    const stored = volume.get('00000003')!;
    assert.equal(stored.contentEncoding, `deflate, encrypt-${cipher}`);
    const { key, ivkey } = await deriveKeys(PASSWORD, 'b/', spec.keyLength);
    assert.equal(stored.metadata['s3backer-hmac'], `"${createHmac('sha1', key).update(`00000003${cipher}`).update(stored.body).digest('hex')}"`);
    assert.ok(referenceOpen(spec, key, ivkey, 3, stored.body).equals(pattern(3)), 'decrypts with the reference IV rule');

    engine = engineFor(volume, { cipher: cipher.toLowerCase() });
    device = await engine.mount();
    assert.ok((await device.read(0, 4096)).equals(pattern(0)));
    assert.ok((await device.read(3 * 4096, 4096)).equals(pattern(3)));
    await engine.shutdown();
  });
}

for (const [cipher, keyLength] of [['AES-128-CBC', 24], ['AES-128-CBC', 32], ['AES-128-CBC', 64], ['AES-192-CBC', 32], ['DES-EDE3-CBC', 40]] as const) {
  test(`${cipher} with --keyLength=${keyLength}: the cipher uses the key's first bytes, the HMAC and ivkey all of it`, T, async () => {
    const volume: MemoryVolume = new Map();
    const spec = resolveCipher(cipher);
    let engine = engineFor(volume, { cipher, keyLength, size: 64 * 1024 });
    let device = await engine.mount();
    await device.write(4096, pattern(1));
    await engine.shutdown();

    const stored = volume.get('00000001')!;
    const { key, ivkey } = await deriveKeys(PASSWORD, 'b/', keyLength);
    assert.equal(key.length, keyLength);
    assert.equal(stored.metadata['s3backer-hmac'], `"${createHmac('sha1', key).update(`00000001${spec.name}`).update(stored.body).digest('hex')}"`);
    assert.ok(referenceOpen(spec, key, ivkey, 1, stored.body).equals(pattern(1)));
    assert.match(volume.get(KEY_CHECK_NAME)!.body.toString(), new RegExp(`"keyLength":${keyLength},`));

    engine = engineFor(volume, { cipher, keyLength, size: 64 * 1024 });
    device = await engine.mount();
    assert.ok((await device.read(4096, 4096)).equals(pattern(1)));
    await engine.shutdown();
  });
}

test('DES-EDE3-CBC (8-byte blocks): the IV encrypts only the 8 ASCII digits of the 16-byte buffer', T, async () => {
  const spec = resolveCipher('DES-EDE3-CBC');
  assert.equal(spec.blockSize, 8);
  const { ivkey } = await deriveKeys(PASSWORD, 'b/', spec.keyLength);
  for (const block of [0, 1, 0xabcdef12]) {
    const iv = blockIv(spec, ivkey, block);
    assert.equal(iv.length, 8);
    const ecb = createCipheriv('des-ede3-ecb', ivkey, null);
    ecb.setAutoPadding(false);
    const source = Buffer.from(block.toString(16).padStart(8, '0'), 'latin1');
    for (let i = 0; i < 8; i++) source[i]! ^= ivkey[i]!;
    assert.equal(iv.toString('hex'), ecb.update(source).toString('hex'));
  }
});

test('the per-mount IV generator (one ECB context) gives the C rule\'s IVs for every cipher and block number', T, async () => {
  for (const cipher of acceptedCipherNames()) {
    const spec = resolveCipher(cipher);
    const { ivkey } = await deriveKeys(PASSWORD, 'b/', spec.keyLength + 8);
    const ivs = new BlockIvs(spec, ivkey);
    for (const block of [0, 1, 2, 255, 0x10000, 0xfffffffe, 3, 0]) {
      assert.equal(ivs.iv(block).toString('hex'), blockIv(spec, ivkey, block).toString('hex'), `${cipher} block ${block}`);
    }
  }
});

test('decryption checks PKCS#7 padding exactly as OpenSSL does, and returns what OpenSSL returns', T, async () => {
  for (const cipher of ['AES-128-CBC', 'DES-EDE3-CBC']) {
    const spec = resolveCipher(cipher);
    const keys = await deriveKeys(PASSWORD, 'b/', spec.keyLength);
    const crypt = new BlockCrypt(spec, keys);
    const iv = blockIv(spec, keys.ivkey, 7);
    let accepted = 0;
    let refused = 0;
    // Random bodies (mostly bad padding), and bodies ending in each possible padding.
    const bodies: Buffer[] = Array.from({ length: 300 }, (_, i) => randomBytes(spec.blockSize * (1 + (i % 4))));
    for (let n = 0; n <= spec.blockSize + 1; n++) {
      const plain = Buffer.concat([randomBytes(spec.blockSize * 2 - Math.min(n, spec.blockSize)), Buffer.alloc(Math.min(n, spec.blockSize), n)]);
      const raw = createCipheriv(spec.nodeName, keys.key, iv);
      raw.setAutoPadding(false);
      bodies.push(raw.update(plain));
    }
    for (const body of bodies) {
      let expected: Buffer | undefined;
      try {
        const openssl = createDecipheriv(spec.nodeName, keys.key, iv);
        expected = Buffer.concat([openssl.update(body), openssl.final()]);
      } catch { expected = undefined; }
      let ours: Buffer | undefined;
      try { ours = crypt.decrypt(7, body); } catch { ours = undefined; }
      assert.equal(ours?.toString('hex'), expected?.toString('hex'));
      if (expected) accepted++; else refused++;
    }
    assert.ok(accepted >= spec.blockSize && refused > 100, `${cipher}: ${accepted} accepted, ${refused} refused`);
    for (const bad of [Buffer.alloc(0), randomBytes(spec.blockSize + 1)]) assert.throws(() => crypt.decrypt(7, bad), /whole number/);
  }
});

test('aliases are stored under the canonical name: "aes128" writes encrypt-AES-128-CBC, byte-identical to AES-128-CBC', T, async () => {
  const bodies: Buffer[] = [];
  for (const cipher of ['aes128', 'AES-128-CBC']) {
    const volume: MemoryVolume = new Map();
    const engine = engineFor(volume, { cipher, size: 64 * 1024 });
    const device = await engine.mount();
    await device.write(4096, pattern(1));
    await engine.shutdown();
    assert.equal(volume.get('00000001')!.contentEncoding, 'deflate, encrypt-AES-128-CBC');
    assert.match(volume.get(KEY_CHECK_NAME)!.body.toString(), /"cipher":"AES-128-CBC"/);
    bodies.push(volume.get('00000001')!.body);
  }
  assert.ok(bodies[0]!.equals(bodies[1]!));
  assert.equal(resolveCipher('des3').name, 'DES-EDE3-CBC');
  assert.equal(resolveCipher('Aes-256-cbc').name, 'AES-256-CBC');
  assert.equal(encryptPlugin({ password: 'x' }).name, ENCRYPT_PLUGIN_NAME);
});

test('the token is matched without case, as the C tool does: "deflate, ENCRYPT-aes-128-cbc" reads', T, async () => {
  const fixture = encrypted.find((c) => c.name === 'encrypt')!;
  const volume = volumeOf(fixture);
  for (const object of volume.values()) if (object.contentEncoding) object.contentEncoding = 'deflate, ENCRYPT-aes-128-cbc';
  const engine = engineFor(volume, { bucket: fixture.bucket });
  const device = await engine.mount();
  assert.ok((await device.read(4096, 4096)).equals(pattern(1)));
  await engine.shutdown();
});

test('the factory refuses stream, AEAD, ECB and unknown ciphers, listing the accepted ones', T, () => {
  for (const cipher of ['aes-128-gcm', 'aes-128-ctr', 'aes-128-ecb', 'aes-256-ofb', 'chacha20-poly1305', 'aes-128-cbc-hmac-sha1', 'id-aes128-wrap', 'nonsense', '']) {
    assert.throws(() => encryptPlugin({ password: PASSWORD, cipher }), (e) =>
      isS3BackerError(e, 'S3B_CONFIG_INVALID') && e.message.includes(`"${cipher}"`) && e.message.includes('AES-128-CBC, AES-192-CBC, AES-256-CBC'), cipher);
  }
});

test('the factory refuses a --keyLength shorter than the cipher\'s key, longer than 64 or not whole; 0 means the default', T, () => {
  for (const [cipher, keyLength] of [['AES-128-CBC', 8], ['AES-256-CBC', 16], ['AES-128-CBC', 65], ['AES-128-CBC', 16.5], ['AES-128-CBC', -1]] as const) {
    assert.throws(() => encryptPlugin({ password: PASSWORD, cipher, keyLength }), (e) =>
      isS3BackerError(e, 'S3B_CONFIG_INVALID') && e.message.includes(`--keyLength=${keyLength}`), `${cipher} ${keyLength}`);
  }
  assert.doesNotThrow(() => encryptPlugin({ password: PASSWORD, keyLength: 0 }));
  assert.doesNotThrow(() => encryptPlugin({ password: PASSWORD, keyLength: 64 }));
  assert.throws(() => encryptPlugin({ password: undefined as unknown as string }), (e) => isS3BackerError(e, 'S3B_CONFIG_INVALID') && /needs a password/.test(e.message));
  assert.throws(() => encryptPlugin({ password: 'secret-pw', passwd: 'x' } as unknown as { password: string }), (e) =>
    isS3BackerError(e, 'S3B_CONFIG_INVALID') && /no option "passwd"/.test(e.message) && !e.message.includes('secret-pw'));
  assert.throws(() => encryptPlugin({ password: 'x', keyLength: '32' as unknown as number }), (e) => isS3BackerError(e, 'S3B_CONFIG_INVALID'));
});
