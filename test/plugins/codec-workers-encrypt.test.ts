import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { Engine } from '../../src/engine/engine.js';
import type { S3BackerPlugin } from '../../src/engine/plugin.js';
import { MemoryStore, memoryPlugin, type MemoryVolume } from '../../plugins/memory/index.js';
import { zeroMapPlugin } from '../../plugins/zero-map/index.js';
import { deflatePlugin } from '../../plugins/compress-deflate/index.js';
import {
  createEncryptPlugin, acceptedCipherNames, deriveKeys, blockHmac, formatHmacMeta, resolveCipher, PooledBlockSealer,
  type EncryptPluginOptions,
} from '../../plugins/encrypt-hmac/index.js';
import { acquireSharedCodecWorkerPool, CodecWorkerError, type CodecWorkerPool } from '../../plugins/codec-workers/index.js';
import { isS3BackerError } from '../../src/errors/s3backer-error.js';
import { testConfig } from '../helpers/test-config.js';
import { loadFixtureCases, fixturePlaintext, fixtureToStored, type FixtureCase } from '../helpers/c-fixtures.js';

// The encrypt plugin with its AES + HMAC in the codec worker threads (workerMinBytes 0: every
// body, even the C fixtures' 4 KiB ones, which the plugin otherwise keeps on the main thread):
// the same bytes as the C tool and as the main-thread path, the same refusals.
const T = { timeout: 30_000 };
const PASSWORD = 'correct-horse';
const inThreads = (options: EncryptPluginOptions): S3BackerPlugin => createEncryptPlugin(options, { workerMinBytes: 0 });
const onMainThread = (options: EncryptPluginOptions): S3BackerPlugin => createEncryptPlugin(options, { workerMinBytes: Infinity });

function engineWith(volume: MemoryVolume, encrypt: S3BackerPlugin, options: { bucket?: string; prefix?: string; size?: number; blockSize?: number; deflate?: boolean } = {}): Engine {
  return Engine.create(testConfig({
    store: 'memory', bucket: options.bucket ?? 'b', prefix: options.prefix ?? '',
    ...(options.size === undefined ? {} : { size: options.size, blockSize: options.blockSize ?? 4096 }),
  }), [memoryPlugin({ volume }), zeroMapPlugin(), ...(options.deflate === false ? [] : [deflatePlugin({ encode: true })]), encrypt]);
}

/** The pool the mounted engines share, without holding it open. */
async function sharedPool(): Promise<CodecWorkerPool> {
  const lease = acquireSharedCodecWorkerPool();
  await lease.release();
  return lease.pool;
}

type EncryptedFixture = FixtureCase & { encryption: string; password: string };
const encrypted = loadFixtureCases().filter((c) => c.encryption) as EncryptedFixture[];

for (const fixture of encrypted) {
  test(`C fixture "${fixture.name}" through the threads: reads the exact plaintext, and writes byte-identical objects`, T, async () => {
    const read = engineWith(new Map(fixture.objects.map((o) => [o.key, fixtureToStored(o)])), inThreads({ password: fixture.password, cipher: fixture.encryption }),
      { bucket: fixture.bucket, prefix: fixture.prefix });
    let device = await read.mount();
    for (const write of fixture.writes) {
      assert.ok((await device.read(write.block * fixture.blockSize, fixture.blockSize)).equals(fixturePlaintext(write.kind, write.block, fixture.blockSize)), `block ${write.block}`);
    }
    assert.ok((await sharedPool()).threadsStarted > 0, 'the threads did the work');
    await read.shutdown();

    const volume: MemoryVolume = new Map();
    const write = engineWith(volume, inThreads({ password: fixture.password, cipher: fixture.encryption }),
      { bucket: fixture.bucket, prefix: fixture.prefix, size: fixture.size, blockSize: fixture.blockSize });
    device = await write.mount();
    await Promise.all(fixture.writes.map((w) => device.write(w.block * fixture.blockSize, fixturePlaintext(w.kind, w.block, fixture.blockSize))));
    await write.shutdown();
    const store = new MemoryStore(volume);
    for (const expected of fixture.objects) {
      const ours = (await store.get(expected.key))!;
      const theirs = fixtureToStored(expected);
      assert.ok(ours.body.equals(theirs.body), `${expected.key} body`);
      assert.equal(ours.contentEncoding, theirs.contentEncoding);
      assert.deepEqual(ours.metadata, theirs.metadata, `${expected.key} metadata`);
    }
  });
}

test('every accepted cipher stores the same objects from the threads as from the main thread, at 64 KiB of random data', T, async () => {
  const blockSize = 64 * 1024;
  const blocks = [0, 1, 5, 0x0c].map((block) => ({ block, data: randomBytes(blockSize) }));
  for (const cipher of acceptedCipherNames()) {
    const volumes: MemoryVolume[] = [];
    for (const plugin of [inThreads({ password: PASSWORD, cipher }), onMainThread({ password: PASSWORD, cipher })]) {
      const volume: MemoryVolume = new Map();
      const engine = engineWith(volume, plugin, { size: 16 * blockSize, blockSize, deflate: false });
      const device = await engine.mount();
      await Promise.all(blocks.map(({ block, data }) => device.write(block * blockSize, data)));
      for (const { block, data } of blocks) assert.ok((await device.read(block * blockSize, blockSize)).equals(data), `${cipher} block ${block}`);
      await engine.shutdown();
      volumes.push(volume);
    }
    for (const { block } of blocks) {
      const key = block.toString(16).padStart(8, '0');
      assert.ok(volumes[0]!.get(key)!.body.equals(volumes[1]!.get(key)!.body), `${cipher} block ${block}: same ciphertext`);
      assert.deepEqual(volumes[0]!.get(key)!.metadata, volumes[1]!.get(key)!.metadata, `${cipher} block ${block}: same HMAC`);
    }
  }
});

test('the threads refuse what the main thread refuses: a flipped byte (S3B_AUTH_FAILED), a signed body with bad padding (S3B_DECODE_FAILED)', T, async () => {
  const blockSize = 64 * 1024;
  const volume: MemoryVolume = new Map();
  let engine = engineWith(volume, inThreads({ password: PASSWORD }), { size: 8 * blockSize, blockSize, deflate: false });
  let device = await engine.mount();
  await device.write(blockSize, randomBytes(blockSize));
  await device.write(2 * blockSize, randomBytes(blockSize));
  await engine.shutdown();

  const flipped = volume.get('00000001')!;
  flipped.body[100]! ^= 1;
  // A body signed with the volume's key whose last cipher block does not end in valid PKCS#7
  // padding: only a faulty writer holding the key makes one.
  const spec = resolveCipher('AES-128-CBC');
  const { key } = await deriveKeys(PASSWORD, 'b/', spec.keyLength);
  const unpadded = createCipheriv('aes-128-cbc', key.subarray(0, 16), Buffer.alloc(16)).setAutoPadding(false).update(Buffer.alloc(blockSize, 0));
  volume.set('00000002', { ...volume.get('00000002')!, body: unpadded, metadata: { 's3backer-hmac': formatHmacMeta(blockHmac(key, spec.name, 2, unpadded)) } });

  engine = engineWith(volume, inThreads({ password: PASSWORD }), { size: 8 * blockSize, blockSize, deflate: false });
  device = await engine.mount();
  await assert.rejects(device.read(blockSize, blockSize), (e) => isS3BackerError(e, 'S3B_AUTH_FAILED') && e.block === 1 && /incorrect signature/.test(e.message));
  await assert.rejects(device.read(2 * blockSize, blockSize), (e) => isS3BackerError(e, 'S3B_DECODE_FAILED') && e.block === 2 && /does not decrypt with AES-128-CBC \(bad decrypt/.test(e.message));
  await engine.shutdown();
});

test('with deflate in front, bodies below the threshold stay on the main thread and the rest go to the threads; all round-trip', T, async () => {
  const blockSize = 64 * 1024;
  const threshold = 48 * 1024;
  const volume: MemoryVolume = new Map();
  const engine = engineWith(volume, createEncryptPlugin({ password: PASSWORD }, { workerMinBytes: threshold }), { size: 16 * blockSize, blockSize });
  const device = await engine.mount();
  const blocks = [Buffer.alloc(blockSize, 'compresses to almost nothing '), randomBytes(blockSize), Buffer.concat([randomBytes(blockSize / 2), Buffer.alloc(blockSize / 2, 7)])];
  await Promise.all(blocks.map((data, i) => device.write(i * blockSize, data)));
  for (const [i, data] of blocks.entries()) assert.ok((await device.read(i * blockSize, blockSize)).equals(data), `block ${i}`);
  assert.ok(volume.get('00000000')!.body.length < threshold, 'block 0 took the main-thread path');
  assert.ok(volume.get('00000001')!.body.length >= threshold, 'block 1 took the threads');
  await engine.shutdown();
});

test('engines share the pool: one unmounting leaves the other\'s threads working; the last one ends them', T, async () => {
  const blockSize = 64 * 1024;
  const engines = [engineWith(new Map(), inThreads({ password: PASSWORD }), { size: 8 * blockSize, blockSize }), engineWith(new Map(), inThreads({ password: 'other' }), { size: 8 * blockSize, blockSize })];
  const devices = await Promise.all(engines.map((engine) => engine.mount()));
  const data = randomBytes(blockSize);
  await Promise.all(devices.map((device) => device.write(0, data)));
  const pool = await sharedPool();
  await engines[0]!.shutdown();
  assert.ok(!pool.isClosed, 'the second engine still holds the pool');
  await devices[1]!.write(blockSize, data);
  assert.ok((await devices[1]!.read(blockSize, blockSize)).equals(data));
  await engines[1]!.shutdown();
  assert.ok(pool.isClosed && pool.liveThreads === 0, 'the last unmount ended the threads');
});

/** A stand-in pool whose jobs fail as the real one's do when a thread dies or cannot start. */
function failingPool(kind: CodecWorkerError['kind']): CodecWorkerPool & { runs: number } {
  const error = new CodecWorkerError(kind, `test: the pool failed (${kind})`);
  const pool = {
    runs: 0,
    load: () => ({ id: 1, module: 'test' }),
    unload: () => {},
    run: () => { pool.runs++; return Promise.reject(error); },
  };
  return pool as unknown as CodecWorkerPool & { runs: number };
}

test('a job the pool cannot complete is redone on the main thread from the caller\'s untouched bytes, with one warning per failure', T, async () => {
  const spec = resolveCipher('AES-256-CBC');
  const keys = await deriveKeys(PASSWORD, 'b/', spec.keyLength);
  const warnings: string[] = [];
  const pool = failingPool('crashed');
  const sealer = new PooledBlockSealer(spec, keys, pool, { minBytes: 0, warn: (message) => warnings.push(message) });
  const data = randomBytes(10_000);
  const original = Buffer.from(data);
  const sealed = await sealer.seal(3, data);
  assert.ok(data.equals(original) && data.buffer.byteLength > 0, 'the caller\'s bytes were neither changed nor detached');
  const reference = sealer.sync.seal(3, data);
  assert.ok(sealed.body.equals(reference.body) && sealed.hmac.equals(reference.hmac));
  const opened = await sealer.open(3, sealed.body, sealed.hmac);
  assert.ok(opened.ok && opened.body.equals(data));
  assert.equal(pool.runs, 2);
  assert.equal(warnings.length, 1, 'the same failure is reported once');
  assert.match(warnings[0]!, /encrypting block 3 in a worker thread failed \(test: the pool failed \(crashed\)\); done on the main thread instead/);
});

test('once the pool says its threads cannot run here, the sealer stops sending it blocks', T, async () => {
  const spec = resolveCipher('AES-128-CBC');
  const keys = await deriveKeys(PASSWORD, 'b/', spec.keyLength);
  const pool = failingPool('unavailable');
  const sealer = new PooledBlockSealer(spec, keys, pool, { minBytes: 0 });
  for (let block = 0; block < 5; block++) await sealer.seal(block, randomBytes(4096));
  assert.equal(pool.runs, 1);
});

test('through the real threads, the caller\'s buffers are neither changed nor detached', T, async () => {
  const lease = acquireSharedCodecWorkerPool();
  try {
    const spec = resolveCipher('AES-128-CBC');
    const keys = await deriveKeys(PASSWORD, 'b/', spec.keyLength);
    const sealer = new PooledBlockSealer(spec, keys, lease.pool, { minBytes: 0 });
    const data = randomBytes(64 * 1024);
    const original = Buffer.from(data);
    const sealed = await sealer.seal(9, data);
    assert.ok(data.equals(original));
    const body = Buffer.from(sealed.body);
    const opened = await sealer.open(9, sealed.body, sealed.hmac);
    assert.ok(sealed.body.equals(body), 'the stored body is intact after it was opened');
    assert.ok(opened.ok && opened.body.equals(data));
    sealer.close();
  } finally {
    await lease.release();
  }
});
