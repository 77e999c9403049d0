import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { test as nodeTest } from 'node:test';
import { Engine, isS3BackerError, type ObjectStore, type ResolvedConfig, type S3BackerPlugin } from 's3backer';
import { zeroMapPlugin } from '../../plugins/zero-map/index.js';

export interface BlockDeviceSuiteOptions {
  test: typeof nodeTest;
  /** Names the variant in test titles, e.g. "memory" or "dir + deflate". */
  name: string;
  /** A fresh, empty volume; returns a function that opens a new store handle onto it (one per mount, as the engine closes its store at shutdown). */
  createVolume: () => Promise<() => ObjectStore>;
  /** A ResolvedConfig for the given overrides. */
  config: (overrides: Partial<ResolvedConfig>) => ResolvedConfig;
  /** Plugins of the variant under test (codecs, caches); a store-providing plugin is added by the suite. */
  plugins?: () => S3BackerPlugin[];
}

const BLOCK = 4096;
const SIZE = 64 * BLOCK;

/**
 * The disk contract, run for every store and pipeline variant (abstract-level re-runs its suite on
 * sublevels the same way): zeros where nothing was written, zero blocks deleted, partial and
 * unaligned writes, concurrency on one block, persistence across mounts, read-only, bounds, the
 * mounted flag.
 */
export function runBlockDeviceConformance(options: BlockDeviceSuiteOptions): void {
  const { test, name } = options;

  async function volume() {
    const open = await options.createVolume();
    const store = open();
    const provide: S3BackerPlugin = { name: 'suite-store', apply: (e) => e.hooks.createStore.for(e.config.store).tapPromise('suite-store', async () => open()) };
    const mount = async (overrides: Partial<ResolvedConfig> = {}) => {
      const engine = Engine.create(options.config({ size: SIZE, blockSize: BLOCK, ...overrides }), [provide, zeroMapPlugin(), ...(options.plugins?.() ?? [])]);
      const device = await engine.mount();
      return { engine, device };
    };
    const keys = async () => { const all: string[] = []; for await (const key of store.list()) all.push(key); return all; };
    return { store, mount, keys };
  }

  test(`${name}: an unwritten disk reads as zeros and stores no block`, async () => {
    const { mount, keys } = await volume();
    const { engine, device } = await mount();
    assert.ok((await device.read(0, SIZE)).equals(Buffer.alloc(SIZE)));
    await engine.shutdown();
    // No block object and no mounted flag; an encrypted volume keeps its key check (docs/format.md).
    assert.deepEqual((await keys()).filter((key) => key !== 's3backer-keycheck'), []);
  });

  test(`${name}: whole, partial and unaligned writes read back; neighbours stay intact`, async () => {
    const { mount } = await volume();
    const { engine, device } = await mount();
    const image = Buffer.alloc(SIZE);
    const writes: Array<[number, number]> = [[0, BLOCK], [BLOCK * 3, BLOCK * 2], [100, 10], [BLOCK * 5 - 7, 20], [BLOCK * 10 + 1, BLOCK * 3 + 5], [SIZE - 1, 1]];
    for (const [offset, length] of writes) {
      const data = randomBytes(length);
      await device.write(offset, data);
      data.copy(image, offset);
    }
    assert.ok((await device.read(0, SIZE)).equals(image));
    assert.ok((await device.read(BLOCK * 5 - 9, 30)).equals(image.subarray(BLOCK * 5 - 9, BLOCK * 5 + 21)));
    await engine.shutdown();
  });

  test(`${name}: writing all zeros deletes the block's object`, async () => {
    const { mount, keys } = await volume();
    const { engine, device } = await mount();
    await device.write(BLOCK * 2, randomBytes(BLOCK));
    await device.write(BLOCK * 7, randomBytes(BLOCK));
    // A write-back cache stores on flush (fsync); without one, flush has nothing to wait for.
    await device.flush();
    assert.equal((await keys()).filter((k) => /^[0-9a-f]{8}$/.test(k)).length, 2);
    await device.write(BLOCK * 2, Buffer.alloc(BLOCK));
    await device.trim(BLOCK * 7, BLOCK);
    await device.flush();
    assert.deepEqual((await keys()).filter((k) => /^[0-9a-f]{8}$/.test(k)), []);
    assert.ok((await device.read(BLOCK * 2, BLOCK * 6)).equals(Buffer.alloc(BLOCK * 6)));
    await engine.shutdown();
  });

  test(`${name}: concurrent partial writes of one block are all kept`, async () => {
    const { mount } = await volume();
    const { engine, device } = await mount();
    const pieces = Array.from({ length: 16 }, (_, i) => ({ offset: BLOCK * 4 + i * 256, data: randomBytes(256) }));
    await Promise.all(pieces.map((p) => device.write(p.offset, p.data)));
    const block = await device.read(BLOCK * 4, BLOCK);
    for (const [i, p] of pieces.entries()) assert.ok(block.subarray(i * 256, i * 256 + 256).equals(p.data), `piece ${i}`);
    await engine.shutdown();
  });

  test(`${name}: data and geometry persist across mounts (size auto-detected from block 0)`, async () => {
    const { mount } = await volume();
    const first = await mount();
    const data = randomBytes(BLOCK * 3 + 11);
    await first.device.write(BLOCK - 5, data);
    await first.device.write(0, Buffer.from('block zero'));
    await first.engine.shutdown();
    const second = await mount({ size: undefined, blockSize: undefined });
    assert.equal(second.device.size, SIZE);
    assert.equal(second.device.geometry.blockSize, BLOCK);
    assert.ok((await second.device.read(BLOCK - 5, data.length)).equals(data));
    await second.engine.shutdown();
  });

  test(`${name}: read-only refuses writes and trims, reads still work`, async () => {
    const { mount } = await volume();
    const first = await mount();
    await first.device.write(0, Buffer.from('hello'));
    await first.engine.shutdown();
    const { engine, device } = await mount({ readOnly: true });
    await assert.rejects(device.write(0, Buffer.from('x')), (e) => isS3BackerError(e, 'S3B_READ_ONLY'));
    await assert.rejects(device.trim(0, BLOCK), (e) => isS3BackerError(e, 'S3B_READ_ONLY'));
    assert.equal((await device.read(0, 5)).toString(), 'hello');
    await engine.shutdown();
  });

  test(`${name}: requests past the end are refused`, async () => {
    const { mount } = await volume();
    const { engine, device } = await mount();
    await assert.rejects(device.read(SIZE - 1, 2), (e) => isS3BackerError(e, 'S3B_OUT_OF_RANGE'));
    await assert.rejects(device.write(SIZE, Buffer.from('x')), (e) => isS3BackerError(e, 'S3B_OUT_OF_RANGE'));
    await engine.shutdown();
  });

  test(`${name}: a second mount is refused while the first holds the mounted flag`, async () => {
    const { mount } = await volume();
    const first = await mount();
    await assert.rejects(mount(), (e) => isS3BackerError(e, 'S3B_MOUNTED_ELSEWHERE') && /--reset-mounted-flag/.test((e as Error).message) && /--force/.test((e as Error).message));
    const forced = await mount({ force: true, readOnly: true });
    await forced.engine.shutdown();
    await first.engine.shutdown();
    const again = await mount();
    await again.engine.shutdown();
  });
}
