import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine.js';
import { Stage } from '../../src/engine/stages.js';
import { MemoryStore, type MemoryVolume } from '../../plugins/memory/memory-store.js';
import { memoryPlugin } from '../../plugins/memory/index.js';
import { dirPlugin } from '../../plugins/dir/index.js';
import { s3Plugin } from '../../plugins/s3/index.js';
import type { S3BackerPlugin } from '../../src/engine/plugin.js';
import type { ObjectStore } from '../../src/engine/object-store.js';
import { S3BackerError, isS3BackerError } from '../../src/errors/s3backer-error.js';
import { testConfig } from '../helpers/test-config.js';

const BLOCK = 4096;
const config = (store: string, overrides = {}) => testConfig({ store, size: 64 * BLOCK, blockSize: BLOCK, ...overrides });

/** A third party's store, registered under its own name. */
function tapeStore(volume: MemoryVolume, name = 'tape'): S3BackerPlugin {
  return { name: `${name}-plugin`, apply: (e) => e.hooks.createStore.for(name).tapPromise(`${name}-plugin`, async () => new MemoryStore(volume)) };
}

/** Wraps the store it is given and records each call as `label:op`. */
function recorder(label: string, calls: string[], stage: number): S3BackerPlugin {
  return {
    name: `record-${label}`,
    apply: (e) => e.hooks.wrapStore.tap({ name: `record-${label}`, stage }, (inner: ObjectStore): ObjectStore => ({
      ...inner, kind: inner.kind, description: inner.description, supports: inner.supports,
      open: () => inner.open(), close: () => inner.close(), list: (o) => inner.list(o), head: (k) => inner.head(k),
      get: (key) => { calls.push(`${label}:get`); return inner.get(key); },
      put: (key, body, options) => { calls.push(`${label}:put`); return inner.put(key, body, options); },
      delete: (key) => { calls.push(`${label}:delete`); return inner.delete(key); },
    })),
  };
}

test('--store=NAME picks a store a third-party plugin registered; built-ins stay selectable beside it', { timeout: 10_000 }, async () => {
  const tape: MemoryVolume = new Map();
  const memory: MemoryVolume = new Map();
  const plugins = () => [tapeStore(tape), memoryPlugin({ volume: memory }), dirPlugin(), s3Plugin()];
  const onTape = Engine.create(config('tape'), plugins());
  await (await onTape.mount()).write(BLOCK, Buffer.alloc(BLOCK, 1));
  await onTape.shutdown();
  assert.ok(tape.has('00000001') && !memory.has('00000001'), 'the third party\'s store got the block');
  // A store in the configuration no longer beats the one chosen by name.
  const onMemory = Engine.create(config('memory'), plugins());
  await (await onMemory.mount()).write(2 * BLOCK, Buffer.alloc(BLOCK, 2));
  await onMemory.shutdown();
  assert.ok(memory.has('00000002') && !tape.has('00000002'));
});

test('an unknown store name lists the registered ones; two plugins registering one name are refused', async () => {
  await assert.rejects(Engine.create(config('tapes'), [tapeStore(new Map()), memoryPlugin(), dirPlugin()]).mount(), (error) =>
    isS3BackerError(error, 'S3B_NO_BACKEND') && /"tapes"; choose one of: --store=dir, --store=memory, --store=tape/.test((error as Error).message));
  assert.throws(() => Engine.create(config('tape'), [tapeStore(new Map()), tapeStore(new Map(), 'tape'), memoryPlugin()].map((p, i) => ({ ...p, name: `${p.name}-${i}` }))), (error) =>
    isS3BackerError(error, 'S3B_CONFIG_DUPLICATE_PLUGIN') && /both provide a store named "tape"/.test((error as Error).message));
});

test('wrapStore composes around the chosen store by stage: the lowest stage sits nearest the real store', { timeout: 10_000 }, async () => {
  const calls: string[] = [];
  const engine = Engine.create(config('memory'), [memoryPlugin(), recorder('outer', calls, Stage.STORE_OBSERVERS), recorder('inner', calls, Stage.STORE_FAULTS)]);
  const device = await engine.mount();
  calls.length = 0;
  await device.write(3 * BLOCK, Buffer.alloc(BLOCK, 3));
  assert.deepEqual(calls, ['outer:put', 'inner:put'], 'the observer sees the call first, then the fault stage, then the store');
  await engine.shutdown();
});

test('the s3 plugin checks S3 options and adds http_* stats only when s3 is the chosen store', { timeout: 10_000 }, async () => {
  // --ssl with an http:// endpoint is an S3 configuration error, irrelevant to a memory mount.
  const engine = Engine.create(config('memory', { ssl: true, baseURL: 'http://127.0.0.1:1/' }), [memoryPlugin(), s3Plugin()]);
  await engine.mount();
  assert.doesNotMatch(engine.stats.render(), /^http_/m);
  await engine.shutdown();
  await assert.rejects(Engine.create(config('s3', { ssl: true, baseURL: 'http://127.0.0.1:1/' }), [memoryPlugin(), s3Plugin()]).mount(), (error) =>
    isS3BackerError(error, 'S3B_CONFIG_INVALID'));
});

test('a store failure names the block and its object, whichever store raised it', { timeout: 10_000 }, async () => {
  const failing: S3BackerPlugin = {
    name: 'failing',
    apply: (e) => e.hooks.wrapStore.tap('failing', (inner: ObjectStore): ObjectStore => Object.assign(Object.create(inner) as ObjectStore, {
      put: async (key: string, body: Buffer, options?: object) => {
        if (key === '0000002a') throw new S3BackerError('S3B_BACKEND_IO', 'the server answered 500 InternalError');
        return inner.put(key, body, options);
      },
      get: async (key: string) => { if (key === '00000007') throw new Error('socket hang up'); return inner.get(key); },
    })),
  };
  const engine = Engine.create(config('memory'), [memoryPlugin(), failing]);
  const device = await engine.mount();
  await assert.rejects(device.write(42 * BLOCK, Buffer.alloc(BLOCK, 4)), (error) =>
    isS3BackerError(error, 'S3B_BACKEND_IO') && error.block === 42 && /^block 0000002a: storing object "0000002a": the server answered 500/.test((error as Error).message));
  await assert.rejects(device.read(7 * BLOCK, BLOCK), (error) =>
    isS3BackerError(error, 'S3B_BACKEND_IO') && error.block === 7 && /reading object "00000007": socket hang up/.test((error as Error).message));
  await engine.shutdown();
});
