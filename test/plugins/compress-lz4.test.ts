import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { S3BackerPlugin } from '../../src/engine/plugin.js';
import type { StoredObject } from '../../src/engine/object-store.js';
import { lz4Plugin, createLz4Plugin, LZ4_PLUGIN_NAME } from '../../plugins/compress-lz4/index.js';
import { loadLz4Library, type Lz4Library } from '../../plugins/compress-lz4/lz4-library.js';
import { isS3BackerError } from '../../src/errors/s3backer-error.js';
import { fixturePlaintext } from '../helpers/c-fixtures.js';
import {
  CODEC_BLOCK as BLOCK, assertEncodeOffStoresPlain, assertReadRejects as assertCodecReadRejects, assertZeroBlocksDeleted, codecEngine,
  codecLibraryLoaded, compressibleSample as sample, storedBlock,
} from '../helpers/codec-engine.js';

const T = { timeout: 60_000 };

async function lz4(): Promise<Lz4Library> {
  const result = await loadLz4Library();
  assert.ok('library' in result, `lz4-napi loads here: ${'unavailable' in result ? result.unavailable : ''}`);
  return result.library;
}

/** The LZ4 frame header as lz4_Frame_format.md defines it. */
function frameHeader(frame: Buffer) {
  return { magic: frame.readUInt32LE(0), version: frame[4]! >> 6, contentChecksum: (frame[4]! & 0x04) !== 0 };
}

test('blocks round-trip as one standard LZ4 frame with a content checksum (4 KiB and 1 MiB blocks)', T, async () => {
  for (const blockSize of [BLOCK, 1 << 20]) {
    const volume = new Map<string, StoredObject>();
    const engine = codecEngine(volume, [lz4Plugin({ encode: true })], { blockSize });
    const device = await engine.mount();
    const blocks = [fixturePlaintext('pattern', 0, blockSize), fixturePlaintext('text', 1, blockSize), sample(2, blockSize)];
    for (const [i, data] of blocks.entries()) await device.write(i * blockSize, data);
    for (const [i, data] of blocks.entries()) {
      const object = volume.get(`0000000${i}`)!;
      assert.equal(object.contentEncoding, 'lz4');
      assert.deepEqual(frameHeader(object.body), { magic: 0x184d2204, version: 1, contentChecksum: true }, 'an LZ4 frame (not a bare block), with content checksum');
      assert.ok(object.body.length < blockSize, 'compressed');
      assert.ok((await device.read(i * blockSize, blockSize)).equals(data), `block ${i} of ${blockSize} bytes reads back`);
    }
    assert.deepEqual(volume.get('00000000')!.metadata, { 's3backer-blocksize': String(blockSize), 's3backer-filesize': String(256 * blockSize) }, 'block 0 keeps its metadata');
    await engine.shutdown();
  }
});

test('the lz4 command-line tool reads a stored block, and we read its frames', T, async (t) => {
  if (spawnSync('lz4', ['--version']).status !== 0) return t.skip('no lz4 command here (apt-get install lz4)');
  const volume = new Map<string, StoredObject>();
  const engine = codecEngine(volume, [lz4Plugin({ encode: true })]);
  const device = await engine.mount();
  const data = sample(3);
  await device.write(3 * BLOCK, data);
  const cli = spawnSync('lz4', ['-d', '-c'], { input: volume.get('00000003')!.body });
  assert.equal(cli.status, 0, String(cli.stderr));
  assert.ok(cli.stdout.equals(data), 'lz4 -d gives the block back');
  const theirs = spawnSync('lz4', ['-c'], { input: sample(4) }).stdout;
  volume.set('00000004', storedBlock(theirs, 'lz4'));
  assert.ok((await device.read(4 * BLOCK, BLOCK)).equals(sample(4)), 'a frame the lz4 tool wrote reads');
  await engine.shutdown();
});

test('without encode, blocks are stored plain, and lz4 blocks written earlier still read', T, () =>
  assertEncodeOffStoresPlain('lz4', lz4Plugin({ encode: true }), [lz4Plugin()]));

test('an all-zero block is deleted, not stored compressed', T, () => assertZeroBlocksDeleted(lz4Plugin({ encode: true })));

function assertReadRejects(body: Buffer, code: 'S3B_DECODE_FAILED' | 'S3B_BLOCK_CORRUPT' | 'S3B_CODEC_UNAVAILABLE', plugin: S3BackerPlugin = lz4Plugin(), reason?: RegExp): Promise<void> {
  return assertCodecReadRejects('lz4', plugin, body, { code, reason });
}

test('a corrupt body (one byte flipped in the middle) rejects with S3B_DECODE_FAILED naming the block', T, async () => {
  const body = await (await lz4()).compressFrame(sample(7), { contentChecksum: true });
  const bad = Buffer.from(body);
  bad[bad.length >> 1] ^= 0x20;
  await assertReadRejects(bad, 'S3B_DECODE_FAILED');
  for (const at of [0, 4, 6]) {
    const header = Buffer.from(body);
    header[at] ^= 0x40;
    await assertReadRejects(header, 'S3B_DECODE_FAILED');
  }
  await assertReadRejects(Buffer.concat([body, Buffer.from([1, 2, 3])]), 'S3B_DECODE_FAILED', lz4Plugin(), /after the LZ4 frame/);
  await assertReadRejects(Buffer.from('not compressed at all'), 'S3B_DECODE_FAILED', lz4Plugin(), /not an LZ4 frame/);
});

test('a truncated body rejects with S3B_DECODE_FAILED naming the block', T, async () => {
  const body = await (await lz4()).compressFrame(sample(7), { contentChecksum: true });
  for (const length of [body.length - 1, body.length - 4, body.length >> 1, 5, 0]) {
    await assertReadRejects(body.subarray(0, length), 'S3B_DECODE_FAILED');
  }
});

test('a body that decompresses past the block size rejects before decompressing (bounded output)', T, async () => {
  const library = await lz4();
  // 64 MiB of zeros in 16 blocks of 4 MiB: refused from the frame's structure, before lz4-napi
  // (which takes no output limit) would allocate 64 MiB.
  await assertReadRejects(await library.compressFrame(Buffer.alloc(64 << 20)), 'S3B_DECODE_FAILED', lz4Plugin(), /more than the 4096 bytes allowed/);
  // One byte too many, inside one frame block: decompressed, then refused.
  await assertReadRejects(await library.compressFrame(Buffer.alloc(BLOCK + 1, 1)), 'S3B_DECODE_FAILED', lz4Plugin(), /4097 bytes, more than the 4096/);
  await assertReadRejects(await library.compressFrame(Buffer.alloc(BLOCK - 1, 1)), 'S3B_BLOCK_CORRUPT');
});

const noLibrary = async () => ({ unavailable: 'the package "lz4-napi" did not load (no binary); reinstall it for this platform: npm install lz4-napi' });

test('lz4-napi missing: encoding fails the mount, decoding an lz4 block names the block (S3B_CODEC_UNAVAILABLE)', T, async () => {
  const volume = new Map<string, StoredObject>();
  await assert.rejects(codecEngine(volume, [createLz4Plugin({ encode: true }, noLibrary)]).mount(), (e) =>
    isS3BackerError(e, 'S3B_CODEC_UNAVAILABLE') && /npm install lz4-napi/.test(e.message) && e.plugin === LZ4_PLUGIN_NAME);
  assert.equal(volume.size, 0);
  await assertReadRejects(await (await lz4()).compressFrame(sample(7)), 'S3B_CODEC_UNAVAILABLE', createLz4Plugin({}, noLibrary), /npm install lz4-napi/);
});

test('lz4-napi is loaded lazily: not when the plugin is created and applied, only at mount (encode on)', T, () => {
  assert.deepEqual(codecLibraryLoaded('compress-lz4/index.js', 'lz4Plugin', 'lz4-napi'), { atApply: false, atMount: true });
});

test('options: a level (lz4 has none) or an unknown option throws S3B_CONFIG_INVALID when the plugin is created', T, () => {
  for (const level of [1, 0, -1, 9]) {
    assert.throws(() => lz4Plugin({ encode: true, level }), (e) =>
      isS3BackerError(e, 'S3B_CONFIG_INVALID') && /lz4 has no compression levels/.test(e.message) && e.plugin === LZ4_PLUGIN_NAME, `level ${level}`);
  }
  assert.throws(() => lz4Plugin({ acceleration: 2 } as never), (e) => isS3BackerError(e, 'S3B_CONFIG_INVALID') && /no option "acceleration"/.test(e.message));
  assert.throws(() => lz4Plugin({ encode: 'no' as unknown as boolean }), (e) => isS3BackerError(e, 'S3B_CONFIG_INVALID') && /true or false/.test(e.message));
  assert.equal(lz4Plugin({ encode: true, level: undefined }).name, 'lz4', 'an unset level is fine');
});
