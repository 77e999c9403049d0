import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine.js';
import { isS3BackerError } from '../../src/errors/s3backer-error.js';
import { PreconditionFailedError } from '../../src/engine/object-store.js';
import { MemoryStore, memoryPlugin, type MemoryVolume } from '../../plugins/memory/index.js';
import { zeroMapPlugin } from '../../plugins/zero-map/index.js';
import { md5ProtectFromConfig, md5ProtectPlugin, MD5_PROTECT_PLUGIN_NAME } from '../../plugins/md5-protect/index.js';
import { testConfig } from '../helpers/test-config.js';

const BLOCK = 4096;
const invalid = (pattern: RegExp) => (error: unknown) => isS3BackerError(error, 'S3B_CONFIG_INVALID') && pattern.test((error as Error).message);

test('md5ProtectFromConfig: a plugin only with --md5CacheSize > 0, and never with --readOnly or --sharedDiskMode', () => {
  assert.deepEqual(md5ProtectFromConfig(testConfig({})), []);
  assert.deepEqual(md5ProtectFromConfig(testConfig({ md5CacheSize: 100, readOnly: true })), []);
  assert.deepEqual(md5ProtectFromConfig(testConfig({ md5CacheSize: 100, sharedDiskMode: true })), []);
  const plugins = md5ProtectFromConfig(testConfig({ md5CacheSize: 100, md5CacheTime: 1000, minWriteDelay: 200 }));
  assert.deepEqual(plugins.map((p) => p.name), [MD5_PROTECT_PLUGIN_NAME]);
});

test('md5ProtectPlugin refuses bad options when created', () => {
  assert.throws(() => md5ProtectPlugin({ size: 0 }), invalid(/option size must be an integer of at least 1/));
  assert.throws(() => md5ProtectPlugin({ size: 10, time: -1 }), invalid(/option time/));
  assert.throws(() => md5ProtectPlugin({ size: 10, time: 100, minWriteDelay: 200 }), invalid(/time \(100 ms, --md5CacheTime\) is shorter than minWriteDelay/));
});

test('a table smaller than the volume with --md5CacheTime=0 is refused at mount ("eventual deadlock"), and the mounted flag is left clear', { timeout: 10_000 }, async () => {
  const volume: MemoryVolume = new Map();
  const config = (size: number) => testConfig({ store: 'memory', size: 64 * BLOCK, blockSize: BLOCK, md5CacheSize: size });
  const refused = Engine.create(config(8), [memoryPlugin({ volume }), zeroMapPlugin(), ...md5ProtectFromConfig(config(8))]);
  try {
    await assert.rejects(refused.mount(), invalid(/holds 8 blocks.*volume has 64 blocks.*eventual deadlock.*--md5CacheTime=MS, or --md5CacheSize=64 or more/));
    assert.equal(volume.has('s3backer-mounted'), false);
  } finally {
    await refused.shutdown();
  }
  // A table covering every block (here larger: capped to 64) needs no time limit.
  const engine = Engine.create(config(1000), [memoryPlugin({ volume }), zeroMapPlugin(), ...md5ProtectFromConfig(config(1000))]);
  try {
    const device = await engine.mount();
    await device.write(0, Buffer.alloc(BLOCK, 7));
    assert.ok((await device.read(0, BLOCK)).equals(Buffer.alloc(BLOCK, 7)));
  } finally {
    await engine.shutdown();
  }
});

test('memory store: get with ifMatch returns the object only when its ETag matches (supports.conditionalGet)', { timeout: 5_000 }, async () => {
  const store = new MemoryStore();
  try {
    assert.equal(store.supports.conditionalGet, true);
    const { etag } = await store.put('k', Buffer.from('one'));
    assert.equal((await store.get('k', { ifMatch: etag }))?.body.toString(), 'one');
    await store.put('k', Buffer.from('two'));
    await assert.rejects(store.get('k', { ifMatch: etag }), (error) => error instanceof PreconditionFailedError && error.key === 'k' && /not "m/.test(error.message));
    assert.equal(await store.get('missing', { ifMatch: etag }), null);
  } finally {
    await store.close();
  }
});
