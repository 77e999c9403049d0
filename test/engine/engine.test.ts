import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine.js';
import { Stage } from '../../src/engine/stages.js';
import { MemoryStore } from '../../plugins/memory/memory-store.js';
import { memoryPlugin } from '../../plugins/memory/index.js';
import { zeroMapPlugin } from '../../plugins/zero-map/index.js';
import type { S3BackerPlugin } from '../../src/engine/plugin.js';
import { isS3BackerError } from '../../src/errors/s3backer-error.js';
import { testConfig } from '../helpers/test-config.js';

/** A plugin that hands the engine this exact store. */
const provide = (store: MemoryStore): S3BackerPlugin => ({ name: 'provide', apply: (e) => e.hooks.createStore.for(e.config.store).tapPromise('provide', async () => store) });

const config = testConfig({ store: 'memory', size: 1 << 20, blockSize: 4096 });

test('tapping after seal is S3B_ENGINE_SEALED; so is applying a plugin', () => {
  let late: (() => void) | undefined;
  const sneaky: S3BackerPlugin = { name: 'sneaky', apply: (e) => { late = () => e.hooks.flush.tapPromise('sneaky', async () => {}); } };
  const engine = Engine.create(config, [sneaky]);
  assert.throws(() => late!(), (e) => isS3BackerError(e, 'S3B_ENGINE_SEALED') && /inside apply\(\)/.test((e as Error).message));
  assert.throws(() => engine.use({ name: 'x', apply() {} }), (e) => isS3BackerError(e, 'S3B_ENGINE_SEALED'));
});

test('two plugins with one name is S3B_CONFIG_DUPLICATE_PLUGIN', () => {
  assert.throws(() => Engine.create(config, [memoryPlugin(), memoryPlugin()]), (e) => isS3BackerError(e, 'S3B_CONFIG_DUPLICATE_PLUGIN'));
});

test('no plugin provides the store: S3B_NO_BACKEND', async () => {
  await assert.rejects(Engine.create(config, []).mount(), (e) => isS3BackerError(e, 'S3B_NO_BACKEND'));
});

test('a foreign error thrown in a tap becomes S3B_PLUGIN_ERROR naming plugin, hook and block', async () => {
  const broken: S3BackerPlugin = { name: 'broken-codec', apply: (e) => e.hooks.encode.tapPromise({ name: 'broken-codec', stage: Stage.COMPRESS }, async () => { throw new RangeError('bad level'); }) };
  const engine = Engine.create(config, [memoryPlugin(), broken]);
  const device = await engine.mount();
  await assert.rejects(device.write(4096 * 3, Buffer.alloc(4096, 1)), (e) =>
    isS3BackerError(e, 'S3B_PLUGIN_ERROR') && e.plugin === 'broken-codec' && e.hook === 'encode' && e.block === 3 && e.cause instanceof RangeError);
  await engine.shutdown();
});

test('encode taps run by stage and append tokens; decode walks recorded tokens right to left', async () => {
  const volume = new Map();
  const store = new MemoryStore(volume);
  const order: string[] = [];
  const codec = (token: string, stage: number, byte: number): S3BackerPlugin => ({
    name: token,
    apply(e) {
      e.hooks.encode.tapPromise({ name: token, stage }, async (o) => {
        order.push(`enc:${token}`);
        return { ...o, body: Buffer.concat([o.body, Buffer.from([byte])]), encodings: [...o.encodings, token] };
      });
      e.hooks.decode.for(token).tapPromise(token, async (o) => {
        order.push(`dec:${token}`);
        assert.equal(o.body.at(-1), byte, `${token} must see its own trailer last`);
        return { ...o, body: o.body.subarray(0, -1) };
      });
    },
  });
  // Registered in the "wrong" order: stages, not registration, decide.
  const plugins = () => [memoryPlugin({ volume }), codec('outer', Stage.ENCRYPT, 0xbb), codec('inner', Stage.COMPRESS, 0xaa)];
  const engine = Engine.create(config, plugins());
  const device = await engine.mount();
  const data = Buffer.alloc(4096, 7);
  await device.write(4096, data);
  const stored = await store.get('00000001');
  assert.equal(stored!.contentEncoding, 'inner, outer');
  assert.equal(stored!.body.length, 4098);
  assert.ok((await device.read(4096, 4096)).equals(data));
  assert.deepEqual(order, ['enc:inner', 'enc:outer', 'dec:outer', 'dec:inner']);
  await engine.shutdown();

  // Without the codecs configured, the object still says how it was encoded: a clear error naming the block.
  const plain = Engine.create(config, [memoryPlugin({ volume })]);
  const plainDevice = await plain.mount();
  await assert.rejects(plainDevice.read(4096, 10), (e) =>
    isS3BackerError(e, 'S3B_UNKNOWN_ENCODING') && e.block === 1 && /block 00000001: .*"inner, outer".*"outer"/.test((e as Error).message));
  await plain.shutdown();
});

test('a raw object of the wrong length is S3B_BLOCK_CORRUPT, not silently padded', async () => {
  const volume = new Map();
  const store = new MemoryStore(volume);
  const engine = Engine.create(config, [memoryPlugin({ volume })]);
  const device = await engine.mount();
  await store.put('00000002', Buffer.alloc(100, 1));
  await assert.rejects(device.read(8192, 1), (e) => isS3BackerError(e, 'S3B_BLOCK_CORRUPT') && e.block === 2);
  await engine.shutdown();
});

test('zero map answers known-zero blocks with no request and counts hits in the stats', async () => {
  let gets = 0;
  const counting = new (class extends MemoryStore {
    override get(key: string) { gets++; return super.get(key); }
  })();
  const engine = Engine.create(config, [provide(counting), zeroMapPlugin()]);
  const device = await engine.mount();
  const before = gets;
  await device.read(0, 4096 * 4);
  assert.equal(gets - before, 4, 'first reads go to the store');
  await device.read(0, 4096 * 4);
  assert.equal(gets - before, 4, 'second reads are answered by the zero map');
  await device.write(0, Buffer.alloc(4096));
  assert.match(engine.stats.render(), /^zero_block_cache_size\s+4 blocks$/m);
  assert.match(engine.stats.render(), /^zero_block_cache_read_hits\s+4$/m);
  assert.match(engine.stats.render(), /^zero_block_cache_write_hits\s+1$/m);
  await device.write(0, Buffer.alloc(4096, 9));
  assert.ok((await device.read(0, 4096)).equals(Buffer.alloc(4096, 9)), 'a non-zero write clears the bit');
  engine.stats.reset();
  assert.match(engine.stats.render(), /^zero_block_cache_read_hits\s+0$/m);
  await engine.shutdown();
});

test('shutdown drains in-flight writes before clearing the mounted flag', async () => {
  const volume = new Map();
  const store = new MemoryStore(volume);
  const slow = new (class extends MemoryStore {
    override async put(...args: Parameters<MemoryStore['put']>) { await new Promise((r) => setTimeout(r, 50)); return super.put(...args); }
  })(volume);
  const engine = Engine.create(config, [provide(slow)]);
  const device = await engine.mount();
  const pending = device.write(0, Buffer.alloc(8192, 3));
  await engine.shutdown();
  await pending;
  assert.ok(await store.head('00000001'), 'the write in flight at shutdown is stored');
  assert.equal(await store.head('s3backer-mounted'), null, 'the mounted flag is cleared');
  await assert.rejects(device.write(0, Buffer.alloc(1)), (e) => isS3BackerError(e, 'S3B_ENGINE_STATE'));
});

test('evict events reach listeners; listBlocks merges the store with plugin additions', async () => {
  const seen: number[] = [];
  const cacheLike: S3BackerPlugin = {
    name: 'cache-like',
    apply(e) {
      e.hooks.evict.tapPromise('cache-like', async ({ block }) => { seen.push(block); });
      e.hooks.listBlocks.tapPromise('cache-like', async (sink) => sink.add(200));
      e.hooks.trim.tapPromise('cache-like', async ({ first, count }) => { await e.evicted({ block: first + count, reason: 'trim' }); });
    },
  };
  const engine = Engine.create(config, [memoryPlugin(), cacheLike]);
  const device = await engine.mount();
  await device.write(4096 * 5, Buffer.alloc(4096, 1));
  await device.trim(4096 * 10, 4096 * 2);
  assert.deepEqual(seen, [12]);
  assert.deepEqual(await engine.listBlocks(), [5, 200]);
  await engine.shutdown();
});
