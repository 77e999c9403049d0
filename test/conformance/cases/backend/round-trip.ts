import assert from 'node:assert/strict';
import { randomBody, skipUnless, type BackendCase } from './backend-case.js';

export const roundTripCases: BackendCase[] = [
  {
    name: 'put then get returns the exact bytes (4 KiB, 64 KiB, empty)',
    async run(store) {
      for (const [key, body] of [['rt/4k', randomBody(4096)], ['rt/64k', randomBody(65536)], ['rt/empty', Buffer.alloc(0)]] as const) {
        await store.put(key, body);
        const got = await store.get(key);
        assert.ok(got, `${key} reads back`);
        assert.equal(got.size, body.length, `${key}: size`);
        assert.equal(got.body.length, body.length, `${key}: body length`);
        assert.ok(got.body.equals(body), `${key}: body bytes`);
      }
    },
  },
  {
    name: 'metadata, Content-Encoding and Content-Type round-trip through get and head',
    async run(store, t) {
      if (skipUnless(t, store.supports.metadata, `the ${store.kind} store declares supports.metadata = false`)) return;
      const body = randomBody(4096);
      // The C tool's own values (http_io.c's PUT headers): block 0 geometry, and an HMAC whose value
      // includes double quotes.
      const metadata = {
        's3backer-blocksize': '4096',
        's3backer-filesize': '1073741824',
        's3backer-hmac': '"0123456789abcdef0123456789abcdef01234567"',
      };
      await store.put('meta/0000002a', body, { metadata, contentEncoding: 'deflate, encrypt-AES-128-CBC', contentType: 'application/x-conformance' });
      const got = await store.get('meta/0000002a');
      assert.ok(got);
      assert.ok(got.body.equals(body));
      assert.deepEqual(got.metadata, metadata);
      assert.equal(got.contentEncoding, 'deflate, encrypt-AES-128-CBC');
      assert.equal(got.contentType, 'application/x-conformance');
      const info = await store.head('meta/0000002a');
      assert.ok(info);
      assert.deepEqual(info.metadata, metadata);
      assert.equal(info.contentEncoding, 'deflate, encrypt-AES-128-CBC');
      assert.equal(info.contentType, 'application/x-conformance');
    },
  },
  {
    name: 'an object put without metadata reads back with empty metadata and no Content-Encoding',
    async run(store) {
      await store.put('plain', randomBody(512));
      const got = await store.get('plain');
      assert.ok(got);
      assert.deepEqual(got.metadata, {});
      assert.equal(got.contentEncoding, undefined);
    },
  },
  {
    name: 'head returns size, etag and metadata, and no body',
    async run(store) {
      const body = randomBody(4096);
      const metadata: Record<string, string> = store.supports.metadata ? { 's3backer-blocksize': '4096' } : {};
      const { etag } = await store.put('head/obj', body, { metadata });
      const info = await store.head('head/obj');
      assert.ok(info);
      assert.equal(info.size, 4096);
      assert.equal(info.etag, etag);
      assert.deepEqual(info.metadata, metadata);
      assert.equal('body' in info, false, 'head() must not carry a body');
    },
  },
];
