import assert from 'node:assert/strict';
import { collect, randomBody, type BackendCase } from './backend-case.js';

export const overwriteDeleteCases: BackendCase[] = [
  {
    name: 'an overwrite replaces body and metadata (metadata not sent again is gone)',
    async run(store) {
      const meta = store.supports.metadata;
      await store.put('ow/obj', randomBody(8192), meta ? { metadata: { 's3backer-blocksize': '8192' }, contentEncoding: 'deflate' } : {});
      const second = randomBody(100);
      await store.put('ow/obj', second);
      const got = await store.get('ow/obj');
      assert.ok(got);
      assert.ok(got.body.equals(second));
      assert.equal(got.size, 100);
      assert.deepEqual(got.metadata, {});
      assert.equal(got.contentEncoding, undefined);
      assert.deepEqual((await store.head('ow/obj'))?.metadata, {});
    },
  },
  {
    name: 'an overwrite with new metadata replaces the old metadata',
    async run(store, t) {
      if (!store.supports.metadata) {
        t.skip(`the ${store.kind} store declares supports.metadata = false`);
        return;
      }
      const body = randomBody(1024);
      await store.put('ow/meta', body, { metadata: { a: '1', b: '2' }, contentEncoding: 'deflate' });
      // Same bytes, different metadata: the metadata must still follow the latest put.
      await store.put('ow/meta', body, { metadata: { c: '3' } });
      const got = await store.get('ow/meta');
      assert.ok(got);
      assert.deepEqual(got.metadata, { c: '3' });
      assert.equal(got.contentEncoding, undefined);
    },
  },
  {
    name: 'delete removes the object; deleting a missing key succeeds',
    async run(store) {
      await store.put('del/obj', randomBody(64));
      await store.delete('del/obj');
      assert.equal(await store.get('del/obj'), null);
      assert.equal(await store.head('del/obj'), null);
      assert.deepEqual(await collect(store.list()), []);
      await store.delete('del/obj');
      await store.delete('del/never-written');
      // A deleted key can be written again.
      const body = randomBody(64);
      await store.put('del/obj', body);
      assert.ok((await store.get('del/obj'))?.body.equals(body));
    },
  },
];
