import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore } from '../../plugins/memory/index.js';
import { ForwardingStore, isS3BackerError, type ObjectStore } from '../../src/index.js';
import { runBackendConformance } from '../conformance/index.js';

// The base of wrapping stores (docs/plugins.md, "Wrapping a store"): with nothing overridden it is
// the inner store, so it passes the suite the bare memory store passes.
runBackendConformance({ test, name: 'ForwardingStore(memory)', factory: async () => new ForwardingStore(new MemoryStore()) });

test('ForwardingStore: the optional methods reach the inner store, and deleteMany is offered only when it has one', async () => {
  const calls: string[] = [];
  const inner: ObjectStore = Object.assign(new MemoryStore(), {
    deleteMany: async (keys: string[]) => { calls.push(`deleteMany ${keys.join(',')}`); return { failed: [] }; },
    abort: (reason: Error) => { calls.push(`abort ${reason.message}`); },
  });
  const store = new ForwardingStore(inner);
  assert.equal(store.kind, inner.kind);
  assert.equal(store.description, inner.description);
  assert.equal(store.supports, inner.supports);
  assert.deepEqual(await store.deleteMany!(['a', 'b']), { failed: [] });
  store.abort(new Error('hung'));
  assert.deepEqual(calls, ['deleteMany a,b', 'abort hung']);
  assert.equal(new ForwardingStore(new MemoryStore()).deleteMany, undefined);
});

test('ForwardingStore: close() and abort() end a subclass\'s waits through stopSignal before the inner store hears of it', async () => {
  class Waiting extends ForwardingStore {
    wait(): Promise<void> {
      return new Promise((_resolve, reject) => this.stopSignal.addEventListener('abort', () => reject(this.stopSignal.reason), { once: true }));
    }
  }
  const closing = new Waiting(new MemoryStore());
  const closed = closing.wait();
  await closing.close();
  await assert.rejects(closed, (error) => isS3BackerError(error, 'S3B_STORE_CLOSED'));

  const aborting = new Waiting(new MemoryStore());
  const aborted = aborting.wait();
  aborting.abort(new Error('shutdown timeout'));
  await assert.rejects(aborted, /shutdown timeout/);
  await aborting.close();
});
