import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { ERROR_CODES } from '../../src/errors/codes.js';
import { errorsDocs } from '../../src/errors/errors-docs.js';
import { errnoOf } from '../../src/errors/errno.js';
import { S3BackerError, wrapPluginError } from '../../src/errors/s3backer-error.js';

const docsPath = new URL('../../../docs/errors.md', import.meta.url);

test('docs/errors.md is generated from the registry (run `npm run docs` after changing codes.ts)', async () => {
  assert.equal(await readFile(docsPath, 'utf8'), errorsDocs());
});

test('every registered code has exactly one section in docs/errors.md, and no other codes appear', async () => {
  const text = await readFile(docsPath, 'utf8');
  const documented = [...text.matchAll(/^## (S3B_[A-Z0-9_]+)$/gm)].map((m) => m[1]);
  assert.deepEqual(documented.sort(), Object.keys(ERROR_CODES).sort());
});

test('errors carry code, block (printed %08x), cause, and map to errno', () => {
  const cause = new Error('socket hang up');
  const error = new S3BackerError('S3B_BACKEND_IO', 'GET failed; check the server', { block: 42, cause });
  assert.equal(error.message, 'block 0000002a: GET failed; check the server');
  assert.equal(error.block, 42);
  assert.equal(error.cause, cause);
  assert.equal(errnoOf(error), 5);
  assert.equal(errnoOf(new S3BackerError('S3B_READ_ONLY', 'x')), 30);
  assert.equal(errnoOf(new Error('anything else')), 5);
});

test('a foreign error is wrapped once with plugin and hook; an S3BackerError passes through', () => {
  const wrapped = wrapPluginError(new TypeError('boom'), 'my-codec', 'encode', 7);
  assert.equal(wrapped.code, 'S3B_PLUGIN_ERROR');
  assert.equal(wrapped.plugin, 'my-codec');
  assert.equal(wrapped.hook, 'encode');
  assert.equal(wrapped.block, 7);
  assert.match(wrapped.message, /^block 00000007: plugin "my-codec" failed in hook "encode": boom/);
  assert.equal(wrapPluginError(wrapped, 'other', 'decode'), wrapped);
});
