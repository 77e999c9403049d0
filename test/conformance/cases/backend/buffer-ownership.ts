import assert from 'node:assert/strict';
import { randomBody, type BackendCase } from './backend-case.js';

export const bufferOwnershipCases: BackendCase[] = [
  {
    // The block cache reuses its buffers as soon as a write settles (object-store.ts contract).
    name: 'mutating the buffer after put resolves does not change the stored object',
    async run(store) {
      const body = randomBody(4096);
      const copy = Buffer.from(body);
      await store.put('own/put', body);
      body.fill(0xee);
      const got = await store.get('own/put');
      assert.ok(got);
      assert.ok(got.body.equals(copy));
    },
  },
  {
    name: 'mutating a buffer returned by get does not change the stored object',
    async run(store) {
      const body = randomBody(4096);
      await store.put('own/get', body);
      const first = await store.get('own/get');
      assert.ok(first);
      first.body.fill(0xee);
      assert.ok((await store.get('own/get'))?.body.equals(body));
    },
  },
];
