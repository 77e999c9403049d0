import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Engine } from '../../src/engine/engine.js';
import type { S3BackerPlugin } from '../../src/engine/plugin.js';
import type { StoredObject } from '../../src/engine/object-store.js';
import { memoryPlugin } from '../../plugins/memory/index.js';
import { zeroMapPlugin } from '../../plugins/zero-map/index.js';
import { isS3BackerError } from '../../src/errors/s3backer-error.js';
import { testConfig } from './test-config.js';
import { assertFixturePlaintext, fixturePlaintext, fixtureVolume, type FixtureCase } from './c-fixtures.js';

// What the codec plugins' tests (compress-deflate, compress-lz4, compress-zstd) have in common:
// an engine over a memory volume the test looks into, objects "written by someone else", data
// that compresses but not to nothing, and the checks every codec must pass the same way.

export const CODEC_BLOCK = 4096;

export interface CodecEngineGeometry {
  /** 'given' (default): `size` and `blockSize` are configured; 'detect': read from block 0's metadata. */
  geometry?: 'given' | 'detect';
  /** Default CODEC_BLOCK. */
  blockSize?: number;
  /** Default 256 blocks. */
  size?: number;
}

/** An engine over `volume` (memory store, zero map) with the codec `plugins`. */
export function codecEngine(volume: Map<string, StoredObject>, plugins: S3BackerPlugin[], options: CodecEngineGeometry = {}): Engine {
  const blockSize = options.blockSize ?? CODEC_BLOCK;
  const geometry = options.geometry === 'detect' ? {} : { size: options.size ?? 256 * blockSize, blockSize };
  return Engine.create(testConfig({ store: 'memory', ...geometry }), [memoryPlugin({ volume }), zeroMapPlugin(), ...plugins]);
}

/** An object as a store holds it, as if written by someone else. */
export function storedBlock(body: Buffer, contentEncoding: string | undefined): StoredObject {
  return {
    body, etag: '"x"', size: body.length, metadata: {}, contentType: 'application/x-s3backer-block',
    ...(contentEncoding === undefined ? {} : { contentEncoding }),
  };
}

/** Mixed data that compresses, but not to nothing: the fixtures' text rule plus a varying tail. */
export function compressibleSample(block: number, size = CODEC_BLOCK): Buffer {
  const data = fixturePlaintext('text', block, size);
  for (let i = size >> 1; i < size; i++) data[i] = (i * i * 31 + block) & 0xff;
  return data;
}

/** The C tool's fixture, geometry auto-detected, reads back every block as its exact plaintext through `plugin`. */
export async function assertFixtureReads(fixture: FixtureCase, plugin: S3BackerPlugin): Promise<void> {
  const engine = codecEngine(fixtureVolume(fixture), [plugin], { geometry: 'detect' });
  const device = await engine.mount();
  assert.equal(device.geometry.blockSize, fixture.blockSize);
  assert.equal(device.size, fixture.size);
  await assertFixturePlaintext(device, fixture);
  await engine.shutdown();
}

/** `encoder` stores blocks as `encoding`; `readers` (encode off) read them, and store new blocks plain. */
export async function assertEncodeOffStoresPlain(encoding: string, encoder: S3BackerPlugin, readers: S3BackerPlugin[]): Promise<void> {
  const volume = new Map<string, StoredObject>();
  const data = compressibleSample(1);
  let engine = codecEngine(volume, [encoder]);
  await (await engine.mount()).write(CODEC_BLOCK, data);
  await engine.shutdown();
  engine = codecEngine(volume, readers);
  const device = await engine.mount();
  assert.ok((await device.read(CODEC_BLOCK, CODEC_BLOCK)).equals(data), `the ${encoding} block reads with encode off`);
  await device.write(2 * CODEC_BLOCK, data);
  await engine.shutdown();
  assert.equal(volume.get('00000001')!.contentEncoding, encoding);
  assert.equal(volume.get('00000002')!.contentEncoding, undefined, 'encode off stores the block plain');
  assert.ok(volume.get('00000002')!.body.equals(data));
}

/** Through `encoder`, an all-zero block is deleted (no object), not stored compressed, and reads as zeros. */
export async function assertZeroBlocksDeleted(encoder: S3BackerPlugin): Promise<void> {
  const volume = new Map<string, StoredObject>();
  const engine = codecEngine(volume, [encoder]);
  const device = await engine.mount();
  await device.write(5 * CODEC_BLOCK, compressibleSample(5));
  assert.ok(volume.has('00000005'));
  await device.write(5 * CODEC_BLOCK, Buffer.alloc(CODEC_BLOCK));
  await device.write(6 * CODEC_BLOCK, Buffer.alloc(CODEC_BLOCK));
  assert.ok(!volume.has('00000005') && !volume.has('00000006'), 'no object for a zero block');
  assert.ok((await device.read(5 * CODEC_BLOCK, CODEC_BLOCK)).equals(Buffer.alloc(CODEC_BLOCK)));
  await engine.shutdown();
}

export interface ReadRejection {
  /** The error code expected. */
  code: 'S3B_DECODE_FAILED' | 'S3B_BLOCK_CORRUPT' | 'S3B_CODEC_UNAVAILABLE';
  /** The message matches this too. */
  reason?: RegExp;
  /** The error's cause has this `code` (Node's, zlib's). */
  causeCode?: string;
}

/**
 * Reading block 7, stored as `body` with Content-Encoding `encoding`, through `plugin`, rejects with
 * `expected.code` naming block 7 (and the encoding, unless the block decoded to the wrong length).
 */
export async function assertReadRejects(encoding: string, plugin: S3BackerPlugin, body: Buffer, expected: ReadRejection): Promise<void> {
  const { code, reason, causeCode } = expected;
  const volume = new Map([['00000007', storedBlock(body, encoding)]]);
  const engine = codecEngine(volume, [plugin]);
  const device = await engine.mount();
  await assert.rejects(device.read(7 * CODEC_BLOCK, CODEC_BLOCK), (e) => {
    assert.ok(isS3BackerError(e, code), `${code}, got ${String(e)}`);
    assert.equal(e.block, 7);
    assert.match(e.message, /^block 00000007: /);
    if (code !== 'S3B_BLOCK_CORRUPT') assert.equal(e.token, encoding);
    if (reason) assert.match(e.message, reason);
    if (causeCode) assert.equal((e.cause as { code?: string }).code, causeCode);
    return true;
  });
  await engine.shutdown();
}

/**
 * In a fresh node process: whether a module whose path contains `packageName` is loaded once
 * `exportName({ encode: true })` from the plugin module `pluginModule` (a path under plugins/, as
 * 'compress-lz4/index.js') is created and applied to an engine, and once that engine is mounted.
 */
export function codecLibraryLoaded(pluginModule: string, exportName: string, packageName: string): { atApply: boolean; atMount: boolean } {
  const dist = (path: string) => JSON.stringify(new URL(path, import.meta.url).href);
  const script = `
    import { createRequire } from 'node:module';
    const { ${exportName}: plugin } = await import(${dist(`../../plugins/${pluginModule}`)});
    const { memoryPlugin } = await import(${dist('../../plugins/memory/index.js')});
    const { Engine } = await import(${dist('../../src/engine/engine.js')});
    const { testConfig } = await import(${dist('./test-config.js')});
    const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((path) => path.includes(${JSON.stringify(packageName)}));
    const engine = Engine.create(testConfig({ store: 'memory', size: 1 << 20, blockSize: 4096 }), [memoryPlugin(), plugin({ encode: true })]);
    const atApply = loaded();
    await engine.mount();
    console.log(JSON.stringify({ atApply, atMount: loaded() }));
    await engine.shutdown();`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr);
  return JSON.parse(child.stdout) as { atApply: boolean; atMount: boolean };
}
