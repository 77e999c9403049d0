import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Engine } from '../../src/engine/engine.js';
import type { S3BackerPlugin } from '../../src/engine/plugin.js';
import type { StoredObject } from '../../src/engine/object-store.js';
import { memoryPlugin } from '../../plugins/memory/index.js';
import { zeroMapPlugin } from '../../plugins/zero-map/index.js';
import { createZstdPlugin, type ZstdPluginOptions } from '../../plugins/compress-zstd/index.js';
import { loadZstdLibrary, type ZstdLibrary } from '../../plugins/compress-zstd/zstd-library.js';
import { acquireSharedCodecWorkerPool, type CodecWorkerPool } from '../../plugins/codec-workers/index.js';
import { isS3BackerError } from '../../src/errors/s3backer-error.js';
import type { ErrorCode } from '../../src/errors/codes.js';
import { testConfig } from '../helpers/test-config.js';
import { loadFixtureCases, fixturePlaintext, fixtureToStored } from '../helpers/c-fixtures.js';

// The zstd plugin with zstd-napi's calls in the codec worker threads (workerMinBytes 0: every
// block, even the C fixture's 4 KiB ones): the same frames as on the main thread and as the C
// tool, the same refusals. node:zlib's zstd (Node >= 22.15) runs on libuv's pool and never uses
// the threads: then there is nothing to test here.
const T = { timeout: 60_000 };
const fixture = loadFixtureCases().find((c) => c.name === 'zstd')!;
const inThreads = (options: ZstdPluginOptions): S3BackerPlugin => createZstdPlugin(options, loadZstdLibrary, { workerMinBytes: 0 });
const onMainThread = (options: ZstdPluginOptions): S3BackerPlugin => createZstdPlugin(options, loadZstdLibrary, { workerMinBytes: Infinity });

async function synchronousLibrary(): Promise<ZstdLibrary | undefined> {
  const result = await loadZstdLibrary();
  return 'library' in result && result.library.synchronous ? result.library : undefined;
}
const skip = (await synchronousLibrary()) ? false : 'the zstd library here is not synchronous (node:zlib): the plugin never uses the codec worker threads';

function engineOver(volume: Map<string, StoredObject>, plugin: S3BackerPlugin, blockSize?: number): Engine {
  return Engine.create(testConfig({ store: 'memory', ...(blockSize === undefined ? {} : { size: 64 * blockSize, blockSize }) }), [memoryPlugin({ volume }), zeroMapPlugin(), plugin]);
}

async function sharedPool(): Promise<CodecWorkerPool> {
  const lease = acquireSharedCodecWorkerPool();
  await lease.release();
  return lease.pool;
}

test('C fixture "zstd" through the threads: reads the exact plaintext, and writes byte-identical objects', { ...T, skip }, async () => {
  const read = engineOver(new Map(fixture.objects.map((o) => [o.key, fixtureToStored(o)])), inThreads({}));
  let device = await read.mount();
  for (const write of fixture.writes) {
    assert.ok((await device.read(write.block * fixture.blockSize, fixture.blockSize)).equals(fixturePlaintext(write.kind, write.block, fixture.blockSize)), `block ${write.block}`);
  }
  assert.ok((await sharedPool()).threadsStarted > 0, 'the threads did the work');
  await read.shutdown();

  const volume = new Map<string, StoredObject>();
  const write = Engine.create(testConfig({ store: 'memory', size: fixture.size, blockSize: fixture.blockSize }), [memoryPlugin({ volume }), zeroMapPlugin(), inThreads({ encode: true })]);
  device = await write.mount();
  await Promise.all(fixture.writes.map((w) => device.write(w.block * fixture.blockSize, fixturePlaintext(w.kind, w.block, fixture.blockSize))));
  await write.shutdown();
  for (const expected of fixture.objects) {
    const ours = volume.get(expected.key)!;
    const theirs = fixtureToStored(expected);
    assert.equal(ours.body.toString('hex'), theirs.body.toString('hex'), `${expected.key} body`);
    assert.deepEqual(ours.metadata, theirs.metadata);
    assert.equal(ours.contentEncoding, theirs.contentEncoding);
  }
});

test('the threads store the same frames as the main thread, at every kind of level, and read them back', { ...T, skip }, async () => {
  const blockSize = 64 * 1024;
  const text = fixturePlaintext('text', 3, blockSize);
  const blocks = [text, randomBytes(blockSize), Buffer.concat([text.subarray(0, blockSize / 2), randomBytes(blockSize / 2)])];
  for (const level of [-5, 1, 3, 19]) {
    const volumes: Map<string, StoredObject>[] = [];
    for (const plugin of [inThreads({ encode: true, level }), onMainThread({ encode: true, level })]) {
      const volume = new Map<string, StoredObject>();
      const engine = engineOver(volume, plugin, blockSize);
      const device = await engine.mount();
      await Promise.all(blocks.map((data, i) => device.write(i * blockSize, data)));
      for (const [i, data] of blocks.entries()) assert.ok((await device.read(i * blockSize, blockSize)).equals(data), `level ${level} block ${i}`);
      await engine.shutdown();
      volumes.push(volume);
    }
    for (const key of ['00000000', '00000001', '00000002']) assert.ok(volumes[0]!.get(key)!.body.equals(volumes[1]!.get(key)!.body), `level ${level} ${key}: same frame`);
  }
});

/** The error reading block 1 stored as `body`, with `plugin`. */
async function readError(body: Buffer, plugin: S3BackerPlugin, blockSize: number): Promise<{ code: ErrorCode; message: string }> {
  const volume = new Map<string, StoredObject>([['00000001', { body, etag: '"x"', size: body.length, metadata: {}, contentEncoding: 'zstd' }]]);
  const engine = engineOver(volume, plugin, blockSize);
  const device = await engine.mount();
  try {
    await device.read(blockSize, blockSize);
  } catch (error) {
    assert.ok(isS3BackerError(error) && error.block === 1, String(error));
    return { code: error.code, message: error.message };
  } finally {
    await engine.shutdown();
  }
  assert.fail('the read succeeded');
}

test('a corrupt, truncated or oversize frame fails in the threads as it does on the main thread: S3B_DECODE_FAILED with zstd\'s reason', { ...T, skip }, async () => {
  const blockSize = 64 * 1024;
  const zstd = (await synchronousLibrary())!;
  const frame = await zstd.compress(fixturePlaintext('text', 1, blockSize), 3);
  const flipped = Buffer.from(frame);
  flipped[4]! ^= 0x80;
  const cases = {
    'a flipped header bit': flipped,
    'a truncated frame': frame.subarray(0, frame.length >> 1),
    'trailing garbage': Buffer.concat([frame, Buffer.from([1, 2, 3])]),
    'not a frame': Buffer.from('not compressed at all'),
    'a frame bigger than the block': await zstd.compress(Buffer.alloc(blockSize + 1, 1), 3),
  };
  for (const [what, body] of Object.entries(cases)) {
    const threads = await readError(body, inThreads({}), blockSize);
    const main = await readError(body, onMainThread({}), blockSize);
    assert.equal(threads.code, 'S3B_DECODE_FAILED', `${what}: ${threads.message}`);
    assert.equal(threads.message, main.message, `${what}: the same error as on the main thread`);
  }
});
