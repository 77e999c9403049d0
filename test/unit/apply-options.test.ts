import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyOptions, chosenCompression } from '../../src/cli/apply-options.js';
import { Engine } from '../../src/engine/engine.js';
import { MemoryStore } from '../../plugins/memory/memory-store.js';
import { isS3BackerError } from '../../src/errors/s3backer-error.js';
import { testConfig } from '../helpers/test-config.js';

test('the compressor: --compress[=ALG], the legacy --compress=LEVEL, and deflate implied by --encrypt alone', () => {
  assert.equal(chosenCompression(testConfig({})), undefined);
  assert.deepEqual(chosenCompression(testConfig({ compress: 'deflate' })), { algorithm: 'deflate', level: undefined });
  assert.deepEqual(chosenCompression(testConfig({ compress: '9' })), { algorithm: 'deflate', level: 9 });
  assert.deepEqual(chosenCompression(testConfig({ compress: '-1' })), { algorithm: 'deflate', level: -1 });
  assert.deepEqual(chosenCompression(testConfig({ compress: 'ZSTD', compressLevel: 19 })), { algorithm: 'zstd', level: 19 });
  assert.deepEqual(chosenCompression(testConfig({ encrypt: 'AES-128-CBC', password: 'x' })), { algorithm: 'deflate', level: undefined });
  assert.deepEqual(chosenCompression(testConfig({ encrypt: 'AES-128-CBC', password: 'x', compress: 'lz4' })), { algorithm: 'lz4', level: undefined });
});

test('every built-in decoder is configured whatever --compress says; a level the compressor does not have is refused at config time', () => {
  const names = applyOptions(testConfig({})).map((plugin) => plugin.name);
  for (const codec of ['deflate', 'zstd', 'lz4']) assert.ok(names.includes(codec), codec);
  assert.ok(!names.includes('encrypt'));
  assert.throws(() => applyOptions(testConfig({ compress: 'lz4', compressLevel: 3 })), (error) => isS3BackerError(error, 'S3B_CONFIG_INVALID'));
  assert.throws(() => applyOptions(testConfig({ compress: 'deflate', compressLevel: 12 })), (error) => isS3BackerError(error, 'S3B_CONFIG_INVALID'));
  assert.throws(() => applyOptions(testConfig({ encrypt: 'AES-128-CBC' })), (error) => isS3BackerError(error, 'S3B_CONFIG_INVALID') && /needs the volume's password/.test((error as Error).message));
  assert.throws(() => applyOptions(testConfig({ encrypt: 'aes-128-gcm', password: 'x' })), (error) => isS3BackerError(error, 'S3B_CONFIG_INVALID'));
  assert.ok(!applyOptions(testConfig({ encrypt: 'AES-128-CBC' }), { codecs: false }).some((plugin) => ['deflate', 'encrypt'].includes(plugin.name)), 'maintenance commands need no codecs, and no password');
});

test('the legacy --compress=9 stores deflate level 9 (zlib header 78 da), and --encrypt alone stores "deflate, encrypt-AES-128-CBC"', { timeout: 20_000 }, async () => {
  for (const [options, encoding, header] of [
    [{ compress: '9' }, 'deflate', '78da'],
    [{ compress: '1' }, 'deflate', '7801'],
    [{ encrypt: 'AES-128-CBC', password: 'pw' }, 'deflate, encrypt-AES-128-CBC', undefined],
  ] as const) {
    const volume = new Map();
    const config = testConfig({ store: 'memory', size: 1 << 20, blockSize: 4096, ...options });
    const engine = Engine.create(config, applyOptions(config).map((plugin) => plugin.name === 'memory'
      ? { name: 'memory', apply: (e: Parameters<typeof plugin.apply>[0]) => e.hooks.createStore.for(e.config.store).tapPromise('memory', async () => new MemoryStore(volume)) }
      : plugin));
    const device = await engine.mount();
    await device.write(4096, Buffer.from('legacy level '.repeat(400)).subarray(0, 4096));
    await engine.shutdown();
    const stored = (await new MemoryStore(volume).get('00000001'))!;
    assert.equal(stored.contentEncoding, encoding);
    if (header) assert.equal(stored.body.subarray(0, 2).toString('hex'), header);
  }
});

test('--test-discard drops writes before the store (reads are zeros, nothing stored); --test-delays slows requests; --test-errors injects retried failures', { timeout: 30_000 }, async () => {
  const run = async (options: object, work: (device: Awaited<ReturnType<Engine['mount']>>) => Promise<void>) => {
    const volume = new Map();
    const config = testConfig({ store: 'memory', size: 1 << 20, blockSize: 4096, ...options });
    const engine = Engine.create(config, applyOptions(config).map((plugin) => plugin.name === 'memory'
      ? { name: 'memory', apply: (e: Parameters<typeof plugin.apply>[0]) => e.hooks.createStore.for('memory').tapPromise('memory', async () => new MemoryStore(volume)) }
      : plugin));
    const device = await engine.mount();
    await work(device);
    const stats = engine.stats.render();
    await engine.shutdown();
    return { volume, stats };
  };
  const discarded = await run({ testDiscard: true, blockCacheSize: 0 }, async (device) => {
    await device.write(4096, Buffer.alloc(4096, 5));
    assert.ok((await device.read(4096, 4096)).equals(Buffer.alloc(4096)));
  });
  assert.equal([...discarded.volume.keys()].length, 0, 'not even the mounted flag reached the store');
  const started = Date.now();
  const delayed = await run({ testDelays: true, blockCacheSize: 0 }, async (device) => {
    for (let block = 1; block <= 10; block++) await device.write(block * 4096, Buffer.alloc(4096, block));
  });
  assert.match(delayed.stats, /^chaos_injected_delay\s+\d+/m);
  assert.ok(Date.now() - started > 200, `ten sequential writes with 0-199 ms delays took ${Date.now() - started} ms`);
  const failing = await run({ testErrors: true, blockCacheSize: 0, initialRetryPause: 1, maxRetryPause: 100 }, async (device) => {
    for (let block = 1; block <= 100; block++) await device.write(block * 4096, Buffer.alloc(4096, block));
    for (let block = 1; block <= 100; block++) assert.ok((await device.read(block * 4096, 4096)).equals(Buffer.alloc(4096, block)));
  });
  assert.match(failing.stats, /^chaos_requests\s+\d+/m);
});
