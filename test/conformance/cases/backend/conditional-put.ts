import assert from 'node:assert/strict';
import { PreconditionFailedError } from 's3backer';
import { randomBody, skipUnless, type BackendCase } from './backend-case.js';

const reason = (kind: string) => `the ${kind} store declares supports.conditionalPut = false`;

export const conditionalPutCases: BackendCase[] = [
  {
    // The mounted flag is created this way, so two mounts cannot both take it (mount-lease.ts).
    name: 'ifNoneMatch "*" creates a missing object, then refuses to overwrite it',
    async run(store, t) {
      if (skipUnless(t, store.supports.conditionalPut, reason(store.kind))) return;
      const original = randomBody(256);
      const metadata: Record<string, string> = store.supports.metadata ? { 's3backer-mount-token': '0000abcd' } : {};
      const { etag } = await store.put('cond/token', original, { ifNoneMatch: '*', metadata });
      assert.ok((await store.get('cond/token'))?.body.equals(original));
      await assert.rejects(store.put('cond/token', randomBody(256), { ifNoneMatch: '*', metadata: store.supports.metadata ? { other: 'x' } : {} }),
        (error: unknown) => error instanceof PreconditionFailedError && error.key === 'cond/token');
      // Same bytes must not sneak in different metadata either.
      await assert.rejects(store.put('cond/token', original, { ifNoneMatch: '*', metadata: store.supports.metadata ? { other: 'x' } : {} }), PreconditionFailedError);
      const after = await store.get('cond/token');
      assert.ok(after);
      assert.ok(after.body.equals(original), 'the original body is kept');
      assert.deepEqual(after.metadata, metadata, 'the original metadata is kept');
      assert.equal(after.etag, etag);
    },
  },
  {
    name: 'of 8 simultaneous ifNoneMatch "*" puts of one key exactly one wins',
    async run(store, t) {
      if (skipUnless(t, store.supports.conditionalPut, reason(store.kind))) return;
      const bodies = Array.from({ length: 8 }, () => randomBody(128));
      const results = await Promise.allSettled(bodies.map((body) => store.put('cond/race', body, { ifNoneMatch: '*' })));
      const winners = results.flatMap((result, i) => (result.status === 'fulfilled' ? [i] : []));
      assert.equal(winners.length, 1, 'exactly one put succeeds');
      for (const result of results) {
        if (result.status === 'rejected') assert.ok(result.reason instanceof PreconditionFailedError, `losers fail with PreconditionFailedError, not ${String(result.reason)}`);
      }
      assert.ok((await store.get('cond/race'))?.body.equals(bodies[winners[0]!]!));
    },
  },
  {
    name: 'after a delete, ifNoneMatch "*" creates again',
    async run(store, t) {
      if (skipUnless(t, store.supports.conditionalPut, reason(store.kind))) return;
      await store.put('cond/again', Buffer.from('one'), { ifNoneMatch: '*' });
      await store.delete('cond/again');
      await store.put('cond/again', Buffer.from('two'), { ifNoneMatch: '*' });
      assert.equal((await store.get('cond/again'))?.body.toString(), 'two');
    },
  },
];
