import assert from 'node:assert/strict';
import { PreconditionFailedError } from 's3backer';
import { randomBody, skipUnless, type BackendCase } from './backend-case.js';

const reason = (kind: string) => `the ${kind} store does not declare supports.conditionalGet`;

export const conditionalGetCases: BackendCase[] = [
  {
    // md5-protect reads a block it wrote this way, so a store holding another version cannot hand it out (ec_protect.c).
    name: 'get with ifMatch returns the version with that ETag, and refuses any other with PreconditionFailedError',
    async run(store, t) {
      if (skipUnless(t, store.supports.conditionalGet === true, reason(store.kind))) return;
      const first = randomBody(4096);
      const { etag: firstEtag } = await store.put('ifm/obj', first);
      const got = await store.get('ifm/obj', { ifMatch: firstEtag });
      assert.ok(got, 'the current version is returned');
      assert.ok(got.body.equals(first), 'with its bytes');
      assert.equal(got.etag, firstEtag);

      const second = randomBody(4096);
      const { etag: secondEtag } = await store.put('ifm/obj', second);
      await assert.rejects(store.get('ifm/obj', { ifMatch: firstEtag }),
        (error: unknown) => error instanceof PreconditionFailedError && error.key === 'ifm/obj');
      assert.ok((await store.get('ifm/obj', { ifMatch: secondEtag }))?.body.equals(second));
    },
  },
  {
    // The ETag is opaque: whatever the store handed out (quoted or not) is what it must accept back.
    name: 'get with ifMatch accepts the ETag exactly as head reports it, and refuses an ETag the store never gave',
    async run(store, t) {
      if (skipUnless(t, store.supports.conditionalGet === true, reason(store.kind))) return;
      const body = randomBody(512);
      await store.put('ifm/head', body);
      const info = await store.head('ifm/head');
      assert.ok(info);
      assert.ok((await store.get('ifm/head', { ifMatch: info.etag }))?.body.equals(body));
      await assert.rejects(store.get('ifm/head', { ifMatch: '"00000000000000000000000000000000"' }), PreconditionFailedError);
    },
  },
  {
    // S3 answers 404 before it looks at If-Match: a deleted block is a zero block, not a stale one.
    name: 'get with ifMatch of a missing key returns null',
    async run(store, t) {
      if (skipUnless(t, store.supports.conditionalGet === true, reason(store.kind))) return;
      const { etag } = await store.put('ifm/gone', randomBody(64));
      await store.delete('ifm/gone');
      assert.equal(await store.get('ifm/gone', { ifMatch: etag }), null);
      assert.equal(await store.get('ifm/never-written', { ifMatch: etag }), null);
    },
  },
];
