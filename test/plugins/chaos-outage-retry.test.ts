import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine.js';
import { MemoryStore, type MemoryVolume } from '../../plugins/memory/memory-store.js';
import { chaosPlugin } from '../../plugins/chaos/index.js';
import { retryPlugin } from '../../plugins/retry/index.js';
import { zeroMapPlugin } from '../../plugins/zero-map/index.js';
import type { S3BackerPlugin } from '../../src/engine/plugin.js';
import { isS3BackerError } from '../../src/errors/s3backer-error.js';
import { testConfig } from '../helpers/test-config.js';

/**
 * Outages through the chaos store under the built-in retry layer, as a user rehearsing one would
 * configure it: shorter than the retry budget, nothing is lost and no error is seen; longer, the
 * write fails clearly, naming its block, and what was written before is intact after a remount.
 */
const BLOCK = 4096;

function mount(volume: MemoryVolume, chaos: ReturnType<typeof chaosPlugin>, overrides: object) {
  const config = testConfig({ store: 'memory', size: 64 * BLOCK, blockSize: BLOCK, blockCacheSize: 0, ...overrides });
  const provide: S3BackerPlugin = { name: 'memory', apply: (e) => e.hooks.createStore.for('memory').tapPromise('memory', async () => new MemoryStore(volume)) };
  const engine = Engine.create(config, [provide, zeroMapPlugin(), retryPlugin(config), chaos]);
  return { engine, mounted: engine.mount() };
}

test('an outage shorter than the retry budget: every write waits it out, no error, nothing lost', { timeout: 30_000 }, async () => {
  const volume: MemoryVolume = new Map();
  const chaos = chaosPlugin({ seed: 1 });
  const { engine, mounted } = mount(volume, chaos, { initialRetryPause: 50, maxRetryPause: 3000, timeout: 2 });
  const device = await mounted;
  chaos.outage(800);
  const started = Date.now();
  for (let block = 1; block <= 8; block++) await device.write(block * BLOCK, Buffer.alloc(BLOCK, block));
  assert.ok(Date.now() - started >= 700, 'the first write waited for the outage to end');
  await engine.shutdown();
  const again = mount(volume, chaosPlugin({ seed: 2 }), {});
  const reread = await again.mounted;
  for (let block = 1; block <= 8; block++) assert.ok((await reread.read(block * BLOCK, BLOCK)).equals(Buffer.alloc(BLOCK, block)), `block ${block}`);
  await again.engine.shutdown();
});

test('an outage longer than the retry budget: a clear error naming the block, within the bound; earlier data intact after remount', { timeout: 30_000 }, async () => {
  const volume: MemoryVolume = new Map();
  const chaos = chaosPlugin({ seed: 3 });
  const { engine, mounted } = mount(volume, chaos, { initialRetryPause: 50, maxRetryPause: 400, timeout: 1 });
  const device = await mounted;
  await device.write(2 * BLOCK, Buffer.alloc(BLOCK, 2));
  chaos.outage(60_000);
  const started = Date.now();
  await assert.rejects(device.write(5 * BLOCK, Buffer.alloc(BLOCK, 5)), (error) =>
    isS3BackerError(error) && error.block === 5 && /gave up after \d+ attempts/.test((error as Error).message));
  const elapsed = Date.now() - started;
  assert.ok(elapsed <= 1_400 + 500, `failed within --timeout + --maxRetryPause (took ${elapsed} ms)`);
  chaos.outage(0);
  await engine.shutdown();
  const again = mount(volume, chaosPlugin({ seed: 4 }), {});
  const reread = await again.mounted;
  assert.ok((await reread.read(2 * BLOCK, BLOCK)).equals(Buffer.alloc(BLOCK, 2)), 'the block written before the outage');
  await again.engine.shutdown();
});
