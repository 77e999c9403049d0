import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closestName } from '../../src/config/closest-name.js';

const FLAGS = ['size', 'blockSize', 'prefix', 'readOnly', 'region', 'accessId', 'accessKey', 'f', 'd'];

test('a case-only difference is suggested', { timeout: 5_000 }, () => {
  assert.equal(closestName('blocksize', FLAGS), 'blockSize');
  assert.equal(closestName('READONLY', FLAGS), 'readOnly');
});

test('a small typo is suggested, the nearest candidate wins', { timeout: 5_000 }, () => {
  assert.equal(closestName('sze', FLAGS), 'size');
  assert.equal(closestName('blokSize', FLAGS), 'blockSize');
  assert.equal(closestName('accesKey', FLAGS), 'accessKey');
  assert.equal(closestName('regoin', FLAGS), 'region');
});

test('two swapped letters are one edit (Damerau–Levenshtein), whatever the case', { timeout: 5_000 }, () => {
  const flags = ['vhost', 'region', 'readOnly', 'blockSize', 'listBlocks'];
  assert.equal(closestName('vhots', flags), 'vhost');
  assert.equal(closestName('VHOTS', flags), 'vhost');
  assert.equal(closestName('raedOnly', flags), 'readOnly');
  assert.equal(closestName('blcokSize', flags), 'blockSize');
  assert.equal(closestName('listBlokcs', flags), 'listBlocks');
  // A swap plus another typo is two edits: still within reach for a long name, not for a short one.
  assert.equal(closestName('lsitBlokcs', flags), 'listBlocks');
  assert.equal(closestName('hvots', flags), undefined);
});

test('nothing reasonably close: no suggestion', { timeout: 5_000 }, () => {
  assert.equal(closestName('frobnicate', FLAGS), undefined);
  assert.equal(closestName('x', FLAGS), undefined, 'a one-letter input must not "match" another letter');
  assert.equal(closestName('zz', FLAGS), undefined);
  assert.equal(closestName('compress', FLAGS), undefined);
});

test('ties keep candidate order; an empty candidate list gives nothing', { timeout: 5_000 }, () => {
  assert.equal(closestName('ab', ['ac', 'ad']), undefined, 'one edit in two letters is too much');
  assert.equal(closestName('abcx', ['abcy', 'abcz']), 'abcy');
  assert.equal(closestName('size', []), undefined);
});

test('accepts any iterable of candidates', { timeout: 5_000 }, () => {
  assert.equal(closestName('blocksize', new Set(FLAGS)), 'blockSize');
});
