import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { test as nodeTest } from 'node:test';
import { Engine, isS3BackerError, parseContentEncoding, type ResolvedConfig, type S3BackerPlugin } from 's3backer';
import { MemoryStore, type MemoryVolume } from '../../plugins/memory/index.js';
import { zeroMapPlugin } from '../../plugins/zero-map/index.js';

export interface CodecSupports {
  /**
   * The codec detects a changed byte anywhere in its output (a checksum or MAC: deflate's
   * Adler-32, the HMAC). zstd and lz4 frames as the C tool writes them carry none, so only
   * damage to their structure (a truncation, a wrong header) is sure to fail.
   */
  integrity: boolean;
}

export interface CodecConformanceOptions {
  test: typeof nodeTest;
  /** Names the codec (or chain) in test titles, e.g. "deflate" or "deflate + AES-128-CBC". */
  name: string;
  /** The codec's plugins, fresh for each mount (a chain lists them all: compress, then encrypt). */
  plugins: () => S3BackerPlugin[];
  /** The Content-Encoding tokens a stored block carries, in order, e.g. ['deflate', 'encrypt-AES-128-CBC']. */
  encodings: readonly string[];
  supports: CodecSupports;
  /** A ResolvedConfig for the given overrides (the suite sets store, size and blockSize). */
  config: (overrides: Partial<ResolvedConfig>) => ResolvedConfig;
  /** Block sizes to run at; default 4 KiB and 64 KiB. */
  blockSizes?: readonly number[];
}

const NUM_BLOCKS = 16;

/** Error codes that may report a damaged object; each must name the block. */
const DAMAGE_CODES = ['S3B_DECODE_FAILED', 'S3B_AUTH_FAILED', 'S3B_BLOCK_CORRUPT'] as const;

/**
 * The contract every codec passes, built-in or third-party (run by `runCodecConformance` from
 * `s3backer/conformance`): blocks of every kind round-trip through a real engine and store; the
 * codec's tokens are recorded once each, in order; an object stored by the codec as all zeros
 * decodes; and truncated or corrupt objects fail with a typed error naming the block, never
 * returning data.
 */
export function runCodecConformance(options: CodecConformanceOptions): void {
  const { test, name } = options;
  const tokens = options.encodings.map((token) => token.toLowerCase());

  for (const blockSize of options.blockSizes ?? [4096, 65536]) {
    const label = `${name} (${blockSize / 1024} KiB blocks)`;

    async function mount(volume: MemoryVolume, overrides: Partial<ResolvedConfig> = {}) {
      const provide: S3BackerPlugin = { name: 'suite-store', apply: (e) => e.hooks.createStore.for(e.config.store).tapPromise('suite-store', async () => new MemoryStore(volume)) };
      const engine = Engine.create(options.config({ store: 'memory', size: NUM_BLOCKS * blockSize, blockSize, ...overrides }), [provide, zeroMapPlugin(), ...options.plugins()]);
      const device = await engine.mount();
      return { engine, device, store: new MemoryStore(volume) };
    }

    /** One block of each kind a disk holds. */
    const samples = (): Array<[string, Buffer]> => [
      ['random (incompressible)', randomBytes(blockSize)],
      ['highly compressible text', Buffer.from('s3backer codec conformance line\n'.repeat(Math.ceil(blockSize / 32))).subarray(0, blockSize)],
      ['a single byte set', Object.assign(Buffer.alloc(blockSize), { [blockSize - 1]: 1 })],
      ['a repeating pattern', Buffer.from(Array.from({ length: blockSize }, (_, i) => (i * 7) & 0xff))],
      ['half random, half zeros', Buffer.concat([randomBytes(blockSize / 2), Buffer.alloc(blockSize / 2)])],
    ];

    test(`codec ${label}: every kind of block round-trips, also after a remount`, { timeout: 60_000 }, async () => {
      const volume: MemoryVolume = new Map();
      const blocks = samples();
      const first = await mount(volume);
      for (const [i, [, data]] of blocks.entries()) await first.device.write(i * blockSize, data);
      for (const [i, [kind, data]] of blocks.entries()) assert.ok((await first.device.read(i * blockSize, blockSize)).equals(data), `${kind}, same mount`);
      await first.engine.shutdown();
      const second = await mount(volume, { size: undefined, blockSize: undefined });
      for (const [i, [kind, data]] of blocks.entries()) assert.ok((await second.device.read(i * blockSize, blockSize)).equals(data), `${kind}, after remount`);
      await second.engine.shutdown();
    });

    test(`codec ${label}: each token is recorded once, in order, and the stored body is not the plaintext`, { timeout: 60_000 }, async () => {
      const volume: MemoryVolume = new Map();
      const { engine, device, store } = await mount(volume);
      const data = Buffer.from('tokens are appended once\n'.repeat(blockSize / 16)).subarray(0, blockSize);
      await device.write(3 * blockSize, data);
      await device.flush();
      const stored = (await store.get(engine.geometry.key(3)))!;
      assert.deepEqual(parseContentEncoding(stored.contentEncoding).map((token) => token.toLowerCase()), tokens);
      assert.ok(!stored.body.equals(data), 'the codec transformed the body');
      await engine.shutdown();
    });

    test(`codec ${label}: an all-zero block the codec stored (as another writer may) decodes to zeros`, { timeout: 60_000 }, async () => {
      const volume: MemoryVolume = new Map();
      const { engine, device, store } = await mount(volume);
      // The pipeline never stores zeros itself (it deletes the object), so encode them by hand.
      const context = { block: 5, key: engine.geometry.key(5), blockSize };
      const encoded = await engine.hooks.encode.promise({ body: Buffer.alloc(blockSize), encodings: [], metadata: {} }, context);
      await store.put(context.key, encoded.body, { metadata: { ...encoded.metadata }, contentEncoding: encoded.encodings.join(', ') });
      assert.ok((await device.read(5 * blockSize, blockSize)).equals(Buffer.alloc(blockSize)));
      await engine.shutdown();
    });

    const damages: Array<[string, (body: Buffer) => Buffer, boolean]> = [
      ['truncated to half', (body) => body.subarray(0, Math.floor(body.length / 2)), true],
      ['cut by its last byte', (body) => body.subarray(0, body.length - 1), true],
      ['empty', () => Buffer.alloc(0), true],
      ['replaced by other bytes', (body) => deterministicBytes(body.length), true],
      ['with its first byte changed', (body) => Buffer.concat([Buffer.from([body[0]! ^ 0x5a]), body.subarray(1)]), true],
      ['with a middle byte changed', (body) => { const copy = Buffer.from(body); copy[copy.length >> 1]! ^= 0x01; return copy; }, options.supports.integrity],
      ['with its last byte changed', (body) => { const copy = Buffer.from(body); copy[copy.length - 1]! ^= 0x80; return copy; }, options.supports.integrity],
    ];
    for (const [damage, corrupt, applies] of damages) {
      test(`codec ${label}: an object ${damage} fails with a typed error naming the block`, { timeout: 60_000, skip: applies ? false : 'the codec declares no integrity check (supports.integrity: false)' }, async () => {
        const volume: MemoryVolume = new Map();
        const { engine, device, store } = await mount(volume);
        // Text compresses, so even a compressor's output has a middle worth damaging.
        await device.write(6 * blockSize, Buffer.from('damage me, then read me back\n'.repeat(blockSize / 16)).subarray(0, blockSize));
        await device.flush();
        const key = engine.geometry.key(6);
        const stored = (await store.get(key))!;
        await store.put(key, corrupt(stored.body), { metadata: stored.metadata, ...(stored.contentEncoding === undefined ? {} : { contentEncoding: stored.contentEncoding }) });
        await engine.shutdown();
        // A fresh mount: nothing cached, the read goes to the damaged object.
        const again = await mount(volume);
        await assert.rejects(again.device.read(6 * blockSize, blockSize), (error) => {
          assert.ok(isS3BackerError(error) && (DAMAGE_CODES as readonly string[]).includes(error.code), `typed error, got ${String(error)}`);
          assert.equal(error.block, 6, 'names the block');
          return true;
        });
        await again.engine.shutdown();
      });
    }
  }
}

/** Arbitrary bytes that are the same on every run, so a damage case cannot pass or fail by chance. */
function deterministicBytes(length: number): Buffer {
  const chunks: Buffer[] = [];
  for (let i = 0; chunks.length * 32 < length; i++) chunks.push(createHash('sha256').update(`codec conformance ${i}`).digest());
  return Buffer.concat(chunks).subarray(0, length);
}
