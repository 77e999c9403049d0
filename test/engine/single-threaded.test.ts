import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine.js';
import type { S3BackerPlugin } from '../../src/engine/plugin.js';
import { InstrumentedStore } from '../helpers/instrumented-store.js';
import { testConfig } from '../helpers/test-config.js';

const BLOCK = 4096;

async function twoWrites(singleThreaded: boolean): Promise<number> {
  const store = new InstrumentedStore();
  const provide: S3BackerPlugin = { name: 'provide', apply: (e) => e.hooks.createStore.for(e.config.store).tapPromise('provide', async () => store) };
  const engine = Engine.create(testConfig({ size: 16 * BLOCK, blockSize: BLOCK, singleThreaded }), [provide]);
  const device = await engine.mount();
  store.hold = (op, key) => op === 'put' && /^0000000[12]$/.test(key);
  const writes = [device.write(BLOCK, Buffer.alloc(BLOCK, 1)), device.write(2 * BLOCK, Buffer.alloc(BLOCK, 2))];
  await store.waitForHeld(1);
  // Give a second, concurrent request every chance to arrive.
  await new Promise((resolve) => setTimeout(resolve, 100));
  const concurrent = store.held.length;
  store.hold = () => false;
  while (store.held.length > 0) store.held.shift()!.release();
  await store.waitForHeld(0).catch(() => {});
  for (let i = 0; i < 50 && store.counts.put < 3; i++) {
    while (store.held.length > 0) store.held.shift()!.release();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await Promise.all(writes);
  await engine.shutdown();
  return concurrent;
}

test('-s (--singleThreaded): one request at a time reaches the disk; without it, requests run concurrently', { timeout: 20_000 }, async () => {
  assert.equal(await twoWrites(false), 2, 'by default both writes are in flight at once');
  assert.equal(await twoWrites(true), 1, 'with -s the second waits for the first');
});
