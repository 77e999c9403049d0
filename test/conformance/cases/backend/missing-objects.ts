import assert from 'node:assert/strict';
import type { BackendCase } from './backend-case.js';

export const missingObjectCases: BackendCase[] = [
  {
    // A missing object is how a zero block is stored (the C tool's http_io.c deletes it): not an error.
    name: 'get and head of a missing key return null',
    async run(store) {
      assert.equal(await store.get('never-written'), null);
      assert.equal(await store.head('never-written'), null);
      assert.equal(await store.get('no/such/dir/0000002a'), null);
      assert.equal(await store.head('no/such/dir/0000002a'), null);
    },
  },
];
