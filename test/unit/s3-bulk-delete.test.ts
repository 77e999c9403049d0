import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeleteObjectsCommand, type S3Client } from '@aws-sdk/client-s3';
import { bulkDelete, failedKeys, DELETE_OBJECTS_MAX_KEYS } from '../../plugins/s3/bulk-delete.js';

test('bulkDelete: 1000 keys a request, quiet, each request through the store\'s perform; failures collected across requests', async () => {
  const sent: Array<{ keys: string[]; quiet: boolean | undefined }> = [];
  const performed: string[] = [];
  const client = {
    send: async (command: DeleteObjectsCommand) => {
      const keys = command.input.Delete!.Objects!.map((object) => object.Key!);
      sent.push({ keys, quiet: command.input.Delete!.Quiet });
      return { Errors: keys.includes('k2001') ? [{ Key: 'k2001', Code: 'AccessDenied', Message: 'Access Denied' }] : [] };
    },
  } as unknown as S3Client;
  const keys = Array.from({ length: 2500 }, (_, i) => `k${i}`);
  const result = await bulkDelete({ client, bucket: 'b', perform: (what, run) => { performed.push(what); return run(); } }, keys);
  assert.equal(DELETE_OBJECTS_MAX_KEYS, 1000);
  assert.deepEqual(sent.map((request) => request.keys.length), [1000, 1000, 500]);
  assert.ok(sent.every((request) => request.quiet === true));
  assert.deepEqual(sent.flatMap((request) => request.keys), keys);
  assert.deepEqual(performed, ['1000 objects (k0 … k999)', '1000 objects (k1000 … k1999)', '500 objects (k2000 … k2499)']);
  assert.deepEqual(result.failed, [{ key: 'k2001', error: 'AccessDenied: Access Denied' }]);
});

test('bulkDelete: a request that fails as a whole rejects', async () => {
  const client = { send: async () => { throw new Error('HTTP 501 NotImplemented'); } } as unknown as S3Client;
  await assert.rejects(bulkDelete({ client, bucket: 'b', perform: (_what, run) => run() }, ['a']), /501 NotImplemented/);
});

test('failedKeys: a missing key is deleted all the same; keys never sent are not reported; a bare error still says something', () => {
  assert.deepEqual(failedKeys(['a', 'b', 'c'], {
    Errors: [
      { Key: 'a', Code: 'NoSuchKey', Message: 'gone' },
      { Key: 'b', Code: 'InternalError', Message: 'We encountered an internal error' },
      { Key: 'zz', Code: 'AccessDenied' },
      { Key: 'c' },
    ],
  }), [
    { key: 'b', error: 'InternalError: We encountered an internal error' },
    { key: 'c', error: 'the server gave no reason' },
  ]);
  assert.deepEqual(failedKeys(['a'], {}), []);
});
