import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine.js';
import { Stage } from '../../src/engine/stages.js';
import { MemoryStore, type MemoryVolume } from '../../plugins/memory/memory-store.js';
import { memoryPlugin } from '../../plugins/memory/index.js';
import type { S3BackerPlugin } from '../../src/engine/plugin.js';
import type { EncodedObject } from '../../src/engine/hooks.js';
import { isS3BackerError } from '../../src/errors/s3backer-error.js';
import { testConfig } from '../helpers/test-config.js';

const BLOCK = 4096;
const config = testConfig({ store: 'memory', size: 64 * BLOCK, blockSize: BLOCK });
const xor = (body: Buffer) => Buffer.from(body.map((byte) => byte ^ 0xa5));

/** A codec as a plugin author writes one: XOR every byte, under `token` (in whatever case they chose). */
function xorCodec(token: string, options: { decodeAs?: string; name?: string; appendToken?: boolean } = {}): S3BackerPlugin {
  const name = options.name ?? `xor-${token}`;
  return {
    name,
    apply(engine) {
      engine.hooks.encode.tapPromise({ name, stage: Stage.COMPRESS }, async (object: EncodedObject) => ({
        ...object, body: xor(object.body), encodings: options.appendToken === false ? object.encodings : [...object.encodings, token],
      }));
      engine.hooks.decode.for(options.decodeAs ?? token).tapPromise(name, async (object: EncodedObject) => ({ ...object, body: xor(object.body) }));
    },
  };
}

async function mounted(plugins: S3BackerPlugin[], volume: MemoryVolume = new Map(), overrides = {}) {
  const engine = Engine.create(testConfig({ store: 'memory', size: 64 * BLOCK, blockSize: BLOCK, ...overrides }), [memoryPlugin({ volume }), ...plugins]);
  const device = await engine.mount();
  return { engine, device, store: new MemoryStore(volume) };
}

const blockKeys = async (store: MemoryStore) => { const keys: string[] = []; for await (const key of store.list()) if (/^[0-9a-f]{8}$/.test(key)) keys.push(key); return keys; };

test('a codec token in upper case reads back what it wrote (decoders match tokens case-insensitively)', { timeout: 10_000 }, async () => {
  const volume: MemoryVolume = new Map();
  const { engine, device, store } = await mounted([xorCodec('MYCODEC')], volume);
  const data = Buffer.from('upper-case token '.repeat(241)).subarray(0, BLOCK);
  await device.write(2 * BLOCK, data);
  assert.equal((await store.get('00000002'))!.contentEncoding, 'MYCODEC', 'the token is stored as the codec wrote it');
  await engine.shutdown();
  const again = await mounted([xorCodec('MYCODEC')], volume);
  assert.ok((await again.device.read(2 * BLOCK, BLOCK)).equals(data));
  await again.engine.shutdown();
});

test('two plugins decoding one token (in any case) is S3B_CODEC_CONTRACT when the engine is created', () => {
  assert.throws(() => Engine.create(config, [memoryPlugin(), xorCodec('dup', { name: 'first' }), xorCodec('DUP', { name: 'second', appendToken: true })]), (error) =>
    isS3BackerError(error, 'S3B_CODEC_CONTRACT') && error.token === 'dup' && /"first" and "second"/.test((error as Error).message));
});

test('an encode tap that changes the bytes without appending a token stores nothing', { timeout: 10_000 }, async () => {
  const { engine, device, store } = await mounted([xorCodec('sneaky', { appendToken: false })]);
  await assert.rejects(device.write(BLOCK, Buffer.alloc(BLOCK, 7)), (error) =>
    isS3BackerError(error, 'S3B_CODEC_CONTRACT') && error.block === 1 && error.plugin === 'xor-sneaky' && /without appending/.test((error as Error).message));
  assert.deepEqual(await blockKeys(store), []);
  await engine.shutdown();
});

test('an encode tap that drops an earlier token is S3B_CODEC_CONTRACT', { timeout: 10_000 }, async () => {
  const dropper: S3BackerPlugin = {
    name: 'dropper',
    apply(engine) {
      engine.hooks.encode.tapPromise({ name: 'dropper', stage: Stage.ENCRYPT }, async (object) => ({ ...object, body: xor(object.body), encodings: ['other'] }));
      engine.hooks.decode.for('other').tapPromise('dropper', async (object) => object);
    },
  };
  const { engine, device, store } = await mounted([xorCodec('first'), dropper]);
  await assert.rejects(device.write(0, Buffer.alloc(BLOCK, 1)), (error) => isS3BackerError(error, 'S3B_CODEC_CONTRACT') && /removed or reordered/.test((error as Error).message));
  assert.deepEqual(await blockKeys(store), []);
  await engine.shutdown();
});

test('a token that no configured plugin decodes is refused before storing', { timeout: 10_000 }, async () => {
  const { engine, device, store } = await mounted([xorCodec('writes-this', { decodeAs: 'decodes-that' })]);
  await assert.rejects(device.write(BLOCK * 4, Buffer.alloc(BLOCK, 9)), (error) =>
    isS3BackerError(error, 'S3B_CODEC_CONTRACT') && error.block === 4 && error.token === 'writes-this' && /could never be read back/.test((error as Error).message));
  assert.deepEqual(await blockKeys(store), []);
  await engine.shutdown();
});

test('a foreign error in a decoder is S3B_DECODE_FAILED naming the block and the token', { timeout: 10_000 }, async () => {
  const volume: MemoryVolume = new Map();
  await new MemoryStore(volume).put('00000003', Buffer.from('garbage'), { contentEncoding: 'deflate' });
  const fragile: S3BackerPlugin = { name: 'fragile', apply: (e) => e.hooks.decode.for('deflate').tapPromise('fragile', async () => { throw new Error('incorrect header check'); }) };
  const { engine, device } = await mounted([fragile], volume);
  await assert.rejects(device.read(3 * BLOCK, BLOCK), (error) =>
    isS3BackerError(error, 'S3B_DECODE_FAILED') && error.block === 3 && error.token === 'deflate' && error.plugin === 'fragile'
    && /^block 00000003: .*incorrect header check/.test((error as Error).message));
  await engine.shutdown();
});

test('a checkObject tap refuses an object before any decoder sees it', { timeout: 10_000 }, async () => {
  const volume: MemoryVolume = new Map();
  await new MemoryStore(volume).put('00000001', Buffer.alloc(BLOCK, 3));
  let decoded = 0;
  const strict: S3BackerPlugin = {
    name: 'strict',
    apply(engine) {
      engine.hooks.checkObject.tapPromise('strict', async (object, block) => {
        if (!object.encodings.includes('sealed')) throw Object.assign(new Error('unsealed'), { block: block.block });
      });
      engine.hooks.decode.for('sealed').tapPromise('strict', async (object) => { decoded++; return object; });
    },
  };
  const { engine, device } = await mounted([strict], volume);
  await assert.rejects(device.read(BLOCK, BLOCK), (error) => isS3BackerError(error) && error.block === 1 && /unsealed/.test((error as Error).message));
  assert.equal(decoded, 0);
  await engine.shutdown();
});

test('--defaultContentEncoding decodes objects a store kept without their Content-Encoding', { timeout: 10_000 }, async () => {
  const volume: MemoryVolume = new Map();
  const data = Buffer.from('header dropped by the store '.repeat(150)).subarray(0, BLOCK);
  await new MemoryStore(volume).put('00000005', xor(data));
  const { engine, device } = await mounted([xorCodec('xor')], volume, { defaultContentEncoding: 'xor' });
  assert.ok((await device.read(5 * BLOCK, BLOCK)).equals(data));
  await engine.shutdown();
  // Without it, the object is raw bytes: the XORed data comes back as it is stored.
  const plain = await mounted([xorCodec('xor')], volume);
  assert.ok((await plain.device.read(5 * BLOCK, BLOCK)).equals(xor(data)));
  await plain.engine.shutdown();
});

test('an encrypted block without --encrypt names the cipher to mount with', { timeout: 10_000 }, async () => {
  const volume: MemoryVolume = new Map();
  await new MemoryStore(volume).put('00000002', Buffer.alloc(48), { contentEncoding: 'deflate, encrypt-AES-256-CBC' });
  const { engine, device } = await mounted([], volume);
  await assert.rejects(device.read(2 * BLOCK, BLOCK), (error) =>
    isS3BackerError(error, 'S3B_UNKNOWN_ENCODING') && error.token === 'encrypt-AES-256-CBC' && /--encrypt=AES-256-CBC and its password/.test((error as Error).message));
  await engine.shutdown();
});
