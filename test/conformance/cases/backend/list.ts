import assert from 'node:assert/strict';
import { collect, inBatches, type BackendCase } from './backend-case.js';

/**
 * Chosen to catch ordering bugs: '/' < '0' < 'B' < 'b', and a "directory" among files. Not here:
 * a key with a byte below '/' right where a sibling "directory" continues ('k/a-b' vs 'k/a/b'):
 * s3rver 3.7.1 lists by walking its own directories and gets that order wrong (and so would
 * page wrongly), while block keys never have that shape. dir-store.test.ts checks it for dir.
 */
const TRICKY = ['k/b', 'k/a0', 'k/a/c', 'k/B', 'k/a/b', 'other/x', 'kz', 'k/a1'];
const SORTED = ['k/B', 'k/a/b', 'k/a/c', 'k/a0', 'k/a1', 'k/b', 'kz', 'other/x'];

export const listCases: BackendCase[] = [
  {
    name: 'list returns every key once, in ascending order',
    async run(store) {
      for (const key of TRICKY) await store.put(key, Buffer.from(key));
      assert.deepEqual(await collect(store.list()), SORTED);
      assert.deepEqual(await collect(store.list({})), SORTED);
    },
  },
  {
    name: 'list filters by prefix (also prefixes that end inside a name)',
    async run(store) {
      for (const key of TRICKY) await store.put(key, Buffer.from(key));
      assert.deepEqual(await collect(store.list({ prefix: 'k/' })), SORTED.filter((key) => key.startsWith('k/')));
      assert.deepEqual(await collect(store.list({ prefix: 'k/a' })), ['k/a/b', 'k/a/c', 'k/a0', 'k/a1']);
      assert.deepEqual(await collect(store.list({ prefix: 'k/a/' })), ['k/a/b', 'k/a/c']);
      assert.deepEqual(await collect(store.list({ prefix: 'k' })), SORTED.filter((key) => key.startsWith('k')));
      assert.deepEqual(await collect(store.list({ prefix: 'nothing/' })), []);
    },
  },
  {
    name: 'list honours startAfter (alone and with a prefix)',
    async run(store) {
      for (const key of TRICKY) await store.put(key, Buffer.from(key));
      assert.deepEqual(await collect(store.list({ startAfter: 'k/a/b' })), ['k/a/c', 'k/a0', 'k/a1', 'k/b', 'kz', 'other/x']);
      // startAfter need not exist.
      assert.deepEqual(await collect(store.list({ startAfter: 'k/a/' })), ['k/a/b', 'k/a/c', 'k/a0', 'k/a1', 'k/b', 'kz', 'other/x']);
      assert.deepEqual(await collect(store.list({ startAfter: 'k/a' })), ['k/a/b', 'k/a/c', 'k/a0', 'k/a1', 'k/b', 'kz', 'other/x']);
      assert.deepEqual(await collect(store.list({ startAfter: 'k/a/zz' })), ['k/a0', 'k/a1', 'k/b', 'kz', 'other/x']);
      assert.deepEqual(await collect(store.list({ prefix: 'k/', startAfter: 'k/a0' })), ['k/a1', 'k/b']);
      assert.deepEqual(await collect(store.list({ prefix: 'k/a/', startAfter: 'k/' })), ['k/a/b', 'k/a/c']);
      assert.deepEqual(await collect(store.list({ startAfter: 'zzz' })), []);
    },
  },
  {
    // S3 pages at 1000 keys; the C tool's survey follows markers (http_io.c, --listBlocks).
    name: 'list returns more than 1000 keys (paging), and startAfter within them',
    async run(store) {
      const keys = Array.from({ length: 1100 }, (_, i) => `many/${i.toString(16).padStart(8, '0')}`);
      const body = Buffer.from('x');
      await inBatches(keys, 32, (key) => store.put(key, body));
      await store.put('zz-after', body);
      const listed = await collect(store.list({ prefix: 'many/' }));
      assert.equal(listed.length, 1100);
      assert.deepEqual(listed, keys);
      const tail = await collect(store.list({ prefix: 'many/', startAfter: keys[1049] }));
      assert.deepEqual(tail, keys.slice(1050));
      assert.equal((await collect(store.list())).length, 1101);
    },
  },
  {
    name: 'keys containing "/" work for put, get, head, delete and list',
    async run(store) {
      const key = 'vol1/sub/dir/0000002a';
      await store.put(key, Buffer.from('deep'));
      assert.equal((await store.get(key))?.body.toString(), 'deep');
      assert.equal((await store.head(key))?.size, 4);
      assert.deepEqual(await collect(store.list({ prefix: 'vol1/' })), [key]);
      // A "directory" is not an object.
      assert.equal(await store.get('vol1/sub'), null);
      assert.equal(await store.head('vol1/sub'), null);
      await store.delete(key);
      assert.equal(await store.get(key), null);
      assert.deepEqual(await collect(store.list()), []);
    },
  },
];
