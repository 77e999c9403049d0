import { test } from 'node:test';
import assert from 'node:assert/strict';
import { surveyRanges, type SurveyRange } from '../../plugins/zero-map/survey-ranges.js';
import { BlockGeometry, blockHash } from '../../src/engine/block-geometry.js';

const BLOCK = 4096;
const geometry = (numBlocks: number, prefix = '', hashPrefix = false) => new BlockGeometry(numBlocks * BLOCK, BLOCK, prefix, hashPrefix);

/** The ranges whose listing returns `key` (under its prefix, after `startAfter`, before `stopAt`). */
const holding = (ranges: SurveyRange[], key: string) => ranges.filter((range) => key.startsWith(range.prefix) && key > range.startAfter && key < range.stopAt);

/** Block numbers spread over the volume, both ends included. */
function sample(numBlocks: number): number[] {
  const blocks = new Set([0, 1, numBlocks - 2, numBlocks - 1]);
  for (let i = 0; i < 2000; i++) blocks.add(Math.floor((i * 2654435761) % numBlocks));
  return [...blocks].filter((block) => block >= 0 && block < numBlocks);
}

/** The slices are contiguous, in order, and cover the whole name space. */
function assertCovers(ranges: SurveyRange[], last: number): void {
  assert.equal(ranges[0]!.first, 0);
  assert.equal(ranges.at(-1)!.last, last);
  for (let i = 1; i < ranges.length; i++) {
    assert.equal(ranges[i]!.first, ranges[i - 1]!.last + 1, `slice ${i} starts where slice ${i - 1} ends`);
    assert.ok(ranges[i]!.startAfter < ranges[i]!.stopAt);
    assert.ok(ranges[i - 1]!.stopAt <= ranges[i]!.stopAt);
  }
}

test('plain keys, 16 listings: 16 slices of block numbers; every block key in exactly its slice', () => {
  const g = geometry(100_000);
  const ranges = surveyRanges(g, 16);
  assert.equal(ranges.length, 16);
  assertCovers(ranges, 99_999);
  assert.deepEqual(ranges.map((r) => r.last - r.first + 1).filter((n, _, all) => Math.abs(n - all[0]!) > 1), [], 'nearly equal slices');
  assert.equal(ranges[0]!.startAfter, '0000000/', 'sorts just before 00000000, as the C tool\'s first marker');
  assert.equal(ranges[1]!.startAfter, `${(ranges[1]!.first - 1).toString(16).padStart(8, '0')}~`);
  assert.equal(ranges.at(-1)!.stopAt, (100_000).toString(16).padStart(8, '0'), 'the last slice stops past the last block');
  assert.equal(ranges[0]!.prefix, '0000', 'blocks 0..6249 (0x1869) all begin with 0000');
  for (const block of sample(100_000)) {
    const found = holding(ranges, g.key(block));
    assert.equal(found.length, 1, `block ${block} is in one slice`);
    assert.ok(block >= found[0]!.first && block <= found[0]!.last, `block ${block} is in the slice of its number`);
  }
  assert.deepEqual(holding(ranges, g.mountTokenKey), [], 'the mounted flag is in no slice');
});

test('hashed keys, 16 listings: the 16 first hex digits of the hash; every key in exactly its slice', () => {
  const g = geometry(100_000, '', true);
  const ranges = surveyRanges(g, 16);
  assert.equal(ranges.length, 16);
  assertCovers(ranges, 0xffffffff);
  ranges.forEach((range, i) => {
    assert.equal(range.first, i * 0x10000000);
    assert.equal(range.prefix, i.toString(16), 'each listing asks only for its first hex digit');
    assert.equal(range.stopAt, i === 15 ? 'g' : (i + 1).toString(16).padEnd(8, '0'));
  });
  assert.equal(ranges[1]!.startAfter, '0fffffff~', 'after every key whose hash is 0fffffff, before any hash 10000000');
  for (const block of sample(100_000)) {
    const key = g.key(block);
    const found = holding(ranges, key);
    assert.equal(found.length, 1, `${key} is in one slice`);
    assert.equal(found[0]!.first, Math.floor(blockHash(block) / 0x10000000) * 0x10000000, `${key} is in the slice of its first hex digit`);
  }
  // The edges of the hashed name space, with any block number after the hash.
  for (const key of ['00000000-00000000', '0fffffff-ffffffff', '10000000-00000000', 'ffffffff-ffffffff']) assert.equal(holding(ranges, key).length, 1, key);
  assert.deepEqual(holding(ranges, g.mountTokenKey), []);
});

test('a prefix: every slice starts and stops inside it; keys of a longer prefix or another volume are outside', () => {
  for (const hashPrefix of [false, true]) {
    const g = geometry(5000, 'vol/', hashPrefix);
    const ranges = surveyRanges(g, 16);
    for (const range of ranges) {
      assert.ok(range.prefix.startsWith('vol/') && range.startAfter.startsWith('vol/') && range.stopAt.startsWith('vol/'));
    }
    for (const block of sample(5000)) assert.equal(holding(ranges, g.key(block)).length, 1, g.key(block));
    for (const other of ['vol/s3backer-mounted', 'vol/zzz', 'vol0/00000001', 'vol', 'vok/00000001', 'vol/x/00000001']) {
      assert.deepEqual(holding(ranges, other), [], `${other} is not in any slice`);
    }
  }
});

test('one listing: one slice over the whole name space', () => {
  const plain = surveyRanges(geometry(1000, 'p-'), 1);
  assert.deepEqual(plain, [{ first: 0, last: 999, prefix: 'p-00000', startAfter: 'p-0000000/', stopAt: `p-${(1000).toString(16).padStart(8, '0')}` }]);
  const hashed = surveyRanges(geometry(1000, 'p-', true), 1);
  assert.deepEqual(hashed, [{ first: 0, last: 0xffffffff, prefix: 'p-', startAfter: 'p-0000000/', stopAt: 'p-g' }]);
  for (const block of sample(1000)) assert.equal(holding(hashed, geometry(1000, 'p-', true).key(block)).length, 1);
});

test('fewer blocks than listings: one slice per block; nonsense counts are refused', () => {
  const ranges = surveyRanges(geometry(3), 16);
  assert.deepEqual(ranges.map((r) => [r.first, r.last]), [[0, 0], [1, 1], [2, 2]]);
  for (const block of [0, 1, 2]) assert.equal(holding(ranges, geometry(3).key(block)).length, 1);
  assert.throws(() => surveyRanges(geometry(3), 0), RangeError);
  assert.throws(() => surveyRanges(geometry(3), 1.5), RangeError);
});
