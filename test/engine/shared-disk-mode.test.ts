import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine.js';
import { applyOptions } from '../../src/cli/apply-options.js';
import { MemoryStore, type MemoryVolume } from '../../plugins/memory/memory-store.js';
import { SHARED_DISK_TOKEN, MOUNT_TOKEN_META } from '../../src/engine/mount-lease.js';
import { isS3BackerError } from '../../src/errors/s3backer-error.js';
import { testConfig } from '../helpers/test-config.js';

const BLOCK = 4096;
const tokenOf = (volume: MemoryVolume) => parseInt(volume.get('s3backer-mounted')?.metadata[MOUNT_TOKEN_META] ?? '0', 16);

/** A mount as the command line builds it (applyOptions), on a shared in-memory volume. */
async function mount(volume: MemoryVolume, overrides: object) {
  const config = testConfig({ store: 'memory', size: 16 * BLOCK, blockSize: BLOCK, ...overrides });
  const plugins = applyOptions(config).map((plugin) => plugin.name === 'memory'
    ? { name: 'memory', apply: (e: Parameters<typeof plugin.apply>[0]) => e.hooks.createStore.for('memory').tapPromise('memory', async () => new MemoryStore(volume)) }
    : plugin);
  const engine = Engine.create(config, plugins);
  return { engine, device: await engine.mount() };
}

test('--sharedDiskMode: hosts mount one volume together, see each other\'s writes at once, and the shared token stays', { timeout: 20_000 }, async () => {
  const volume: MemoryVolume = new Map();
  const a = await mount(volume, { sharedDiskMode: true });
  const b = await mount(volume, { sharedDiskMode: true });
  assert.equal(tokenOf(volume), SHARED_DISK_TOKEN);
  assert.ok((await b.device.read(3 * BLOCK, BLOCK)).equals(Buffer.alloc(BLOCK)), 'B reads block 3 (zeros) first');
  await a.device.write(3 * BLOCK, Buffer.alloc(BLOCK, 7));
  assert.ok((await b.device.read(3 * BLOCK, BLOCK)).equals(Buffer.alloc(BLOCK, 7)), 'B sees A\'s write: no zero map, no cache remembered the zeros');
  await b.device.write(3 * BLOCK, Buffer.alloc(BLOCK, 9));
  assert.ok((await a.device.read(3 * BLOCK, BLOCK)).equals(Buffer.alloc(BLOCK, 9)));
  await a.engine.shutdown();
  await b.engine.shutdown();
  assert.equal(tokenOf(volume), SHARED_DISK_TOKEN, 'never cleared: other hosts may still use the volume');
});

test('a normal mount refuses a shared-disk volume, and a shared mount refuses a normally mounted one unless forced', { timeout: 20_000 }, async () => {
  const shared: MemoryVolume = new Map();
  await (await mount(shared, { sharedDiskMode: true })).engine.shutdown();
  await assert.rejects(mount(shared, {}), (error) => isS3BackerError(error, 'S3B_MOUNTED_ELSEWHERE') && /shared disk mode.*--sharedDiskMode/.test((error as Error).message));

  const normal: MemoryVolume = new Map();
  const owner = await mount(normal, {});
  await assert.rejects(mount(normal, { sharedDiskMode: true }), (error) => isS3BackerError(error, 'S3B_MOUNTED_ELSEWHERE') && /not in shared disk mode/.test((error as Error).message));
  const forced = await mount(normal, { sharedDiskMode: true, force: true });
  await forced.engine.shutdown();
  await owner.engine.shutdown();
});
