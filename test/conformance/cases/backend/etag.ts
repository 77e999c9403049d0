import assert from 'node:assert/strict';
import { randomBody, type BackendCase } from './backend-case.js';

export const etagCases: BackendCase[] = [
  {
    // The block cache keeps ETags as opaque version tokens (never assumed to be an MD5: archiecobbs/s3backer#135).
    name: 'the etag is a non-empty string, the same from put, get and head, and changes with the content',
    async run(store) {
      const first = await store.put('etag/obj', randomBody(4096));
      assert.equal(typeof first.etag, 'string');
      assert.ok(first.etag.length > 0);
      assert.equal((await store.get('etag/obj'))?.etag, first.etag);
      assert.equal((await store.head('etag/obj'))?.etag, first.etag);
      const second = await store.put('etag/obj', randomBody(4096));
      assert.notEqual(second.etag, first.etag);
      assert.equal((await store.get('etag/obj'))?.etag, second.etag);
      assert.equal((await store.head('etag/obj'))?.etag, second.etag);
    },
  },
];
