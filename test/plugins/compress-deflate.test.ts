import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync, inflateSync } from 'node:zlib';
import { Stage } from '../../src/engine/stages.js';
import type { S3BackerPlugin } from '../../src/engine/plugin.js';
import type { StoredObject } from '../../src/engine/object-store.js';
import { deflatePlugin, DEFLATE_PLUGIN_NAME } from '../../plugins/compress-deflate/index.js';
import { isS3BackerError } from '../../src/errors/s3backer-error.js';
import { loadFixtureCases, assertStoredAsFixture, writeFixturePlaintext } from '../helpers/c-fixtures.js';
import {
  CODEC_BLOCK as BLOCK, assertEncodeOffStoresPlain, assertFixtureReads, assertReadRejects as assertCodecReadRejects, assertZeroBlocksDeleted,
  codecEngine as engineOver, compressibleSample as sample,
} from '../helpers/codec-engine.js';

const T = { timeout: 30_000 };
const fixtures = loadFixtureCases().filter((c) => c.name === 'deflate' || c.name === 'deflate9');

for (const fixture of fixtures) {
  for (const encode of [false, true]) {
    test(`C fixture "${fixture.name}" (encode: ${encode}): auto-detected geometry, every block reads as its exact plaintext`, T, () =>
      assertFixtureReads(fixture, deflatePlugin({ encode })));
  }

  test(`C fixture "${fixture.name}": writing its plaintext stores byte-identical objects, Content-Encoding and metadata`, T, async () => {
    const level = typeof fixture.compression!.level === 'number' ? fixture.compression!.level : undefined;
    const volume = new Map<string, StoredObject>();
    const engine = engineOver(volume, [deflatePlugin({ encode: true, ...(level === undefined ? {} : { level }) })], { size: fixture.size, blockSize: fixture.blockSize });
    await writeFixturePlaintext(await engine.mount(), fixture);
    await engine.shutdown();
    assertStoredAsFixture(volume, fixture);
  });
}

test('every level -1..9 round-trips in the zlib format (not raw deflate); level 6 is the default -1', T, async () => {
  for (let level = -1; level <= 9; level++) {
    const volume = new Map<string, StoredObject>();
    const engine = engineOver(volume, [deflatePlugin({ encode: true, level })]);
    const device = await engine.mount();
    const data = sample(level + 2);
    await device.write(3 * BLOCK, data);
    const object = volume.get('00000003')!;
    assert.equal(object.contentEncoding, 'deflate');
    assert.equal(object.body[0], 0x78, `level ${level}: a zlib (RFC 1950) header`);
    assert.ok(inflateSync(object.body).equals(data), `level ${level}: plain zlib inflate reads it`);
    assert.ok(object.body.equals(deflateSync(data, { level })), `level ${level}: zlib compress2() bytes`);
    if (level === 0) assert.ok(object.body.length > BLOCK, 'level 0 stores without compressing');
    else assert.ok(object.body.length < BLOCK, `level ${level} compresses`);
    assert.ok((await device.read(3 * BLOCK, BLOCK)).equals(data), `level ${level} reads back`);
    await engine.shutdown();
  }
  const data = sample(9);
  assert.ok(deflateSync(data, { level: 6 }).equals(deflateSync(data, { level: -1 })));
  const six = new Map<string, StoredObject>();
  const dflt = new Map<string, StoredObject>();
  for (const [volume, plugin] of [[six, deflatePlugin({ encode: true, level: 6 })], [dflt, deflatePlugin({ encode: true })]] as const) {
    const engine = engineOver(volume, [plugin]);
    await (await engine.mount()).write(0, data);
    await engine.shutdown();
  }
  assert.ok(six.get('00000000')!.body.equals(dflt.get('00000000')!.body), 'level 6 stores the same bytes as the default');
});

test('without encode, blocks are stored plain, and deflate blocks written earlier still read', T, () =>
  assertEncodeOffStoresPlain('deflate', deflatePlugin({ encode: true }), [deflatePlugin()]));

test('an all-zero block is deleted, not stored compressed', T, () => assertZeroBlocksDeleted(deflatePlugin({ encode: true })));

/** Reading block 7, stored with `body`, must reject with `code` naming block 7 (and return no data). */
function assertReadRejects(body: Buffer, code: 'S3B_DECODE_FAILED' | 'S3B_BLOCK_CORRUPT', encode = false, causeCode?: string): Promise<void> {
  return assertCodecReadRejects('deflate', deflatePlugin({ encode }), body, { code, causeCode });
}

test('a corrupt body (one byte flipped in the middle) rejects with S3B_DECODE_FAILED naming the block', T, async () => {
  const body = deflateSync(sample(7));
  body[body.length >> 1] ^= 0x20;
  await assertReadRejects(body, 'S3B_DECODE_FAILED');
  const badHeader = deflateSync(sample(7));
  badHeader[1] ^= 0xff;
  await assertReadRejects(badHeader, 'S3B_DECODE_FAILED', true);
  await assertReadRejects(Buffer.from('not compressed at all'), 'S3B_DECODE_FAILED');
});

test('a truncated body rejects with S3B_DECODE_FAILED naming the block', T, async () => {
  const body = deflateSync(sample(7));
  await assertReadRejects(body.subarray(0, body.length - 1), 'S3B_DECODE_FAILED'); // half the Adler-32 trailer
  await assertReadRejects(body.subarray(0, body.length >> 1), 'S3B_DECODE_FAILED');
  await assertReadRejects(Buffer.alloc(0), 'S3B_DECODE_FAILED');
});

test('a body that inflates past the block size rejects without inflating it all (zip bomb)', T, async () => {
  // 64 MiB of zeros in 64 KiB. Inflated with no limit it would come back whole and fail only the
  // length check (S3B_BLOCK_CORRUPT); with the limit, zlib stops after one block (Node's
  // ERR_BUFFER_TOO_LARGE), like the C tool's uncompress() into block_size bytes.
  const bomb = deflateSync(Buffer.alloc(64 << 20), { level: 9 });
  await assertReadRejects(bomb, 'S3B_DECODE_FAILED', false, 'ERR_BUFFER_TOO_LARGE');
  await assertReadRejects(deflateSync(Buffer.alloc(BLOCK + 1, 1)), 'S3B_DECODE_FAILED', false, 'ERR_BUFFER_TOO_LARGE'); // one byte too many
});

test('a body that inflates to less than the block size is S3B_BLOCK_CORRUPT', T, async () => {
  await assertReadRejects(deflateSync(Buffer.alloc(BLOCK - 1, 1)), 'S3B_BLOCK_CORRUPT');
});

test('a codec applied before deflate (lower stage) may grow the block: it still round-trips', T, async () => {
  const PAD = Buffer.alloc(100, 0xee);
  const pad: S3BackerPlugin = {
    name: 'pad',
    apply(engine) {
      engine.hooks.encode.tapPromise({ name: 'pad', stage: Stage.DEFAULT }, async (o) => ({ ...o, body: Buffer.concat([o.body, PAD]), encodings: [...o.encodings, 'x-pad'] }));
      engine.hooks.decode.for('x-pad').tapPromise('pad', async (o) => ({ ...o, body: o.body.subarray(0, o.body.length - PAD.length) }));
    },
  };
  const volume = new Map<string, StoredObject>();
  const engine = engineOver(volume, [deflatePlugin({ encode: true }), pad]);
  const device = await engine.mount();
  const data = sample(4);
  await device.write(4 * BLOCK, data);
  assert.equal(volume.get('00000004')!.contentEncoding, 'x-pad, deflate');
  assert.ok((await device.read(4 * BLOCK, BLOCK)).equals(data));
  await engine.shutdown();
});

test('bad options throw S3B_CONFIG_INVALID when the plugin is created, saying what is allowed', T, () => {
  for (const level of [10, -2, 1.5, Number.NaN, '6' as unknown as number]) {
    assert.throws(() => deflatePlugin({ encode: true, level }), (e) =>
      isS3BackerError(e, 'S3B_CONFIG_INVALID') && /-1 .*0 .* to 9/.test(e.message) && e.plugin === DEFLATE_PLUGIN_NAME, `level ${String(level)}`);
  }
  assert.throws(() => deflatePlugin({ encode: 'yes' as unknown as boolean }), (e) => isS3BackerError(e, 'S3B_CONFIG_INVALID') && /true or false/.test(e.message));
  assert.throws(() => deflatePlugin({ levle: 9 } as never), (e) => isS3BackerError(e, 'S3B_CONFIG_INVALID') && /no option "levle"/.test(e.message));
  for (const level of [-1, 0, 1, 9]) assert.equal(deflatePlugin({ level }).name, 'deflate');
});
