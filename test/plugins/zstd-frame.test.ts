import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadZstdLibrary } from '../../plugins/compress-zstd/zstd-library.js';
import { zstdFrameProblem } from '../../plugins/compress-zstd/zstd-frame.js';

// node:zlib (Node >= 22.15) decodes truncated frames without error; zstdFrameProblem is the check
// that makes it fail as ZSTD_decompress() does. Pure, so it is tested on every Node.
test('zstdFrameProblem: one complete frame passes; truncated, padded or foreign bodies are named', { timeout: 10_000 }, async () => {
  const loaded = await loadZstdLibrary();
  assert.ok('library' in loaded, `a zstd library loads here: ${'unavailable' in loaded ? loaded.unavailable : ''}`);
  const library = loaded.library;
  const data = Buffer.alloc(65536);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7) % 251;
  const frame = await library.compress(data, 3);
  assert.equal(zstdFrameProblem(frame), undefined);
  assert.equal(zstdFrameProblem(await library.compress(Buffer.alloc(4096), 1)), undefined, 'an RLE block');
  assert.match(zstdFrameProblem(frame.subarray(0, frame.length - 1))!, /truncated/);
  assert.match(zstdFrameProblem(frame.subarray(0, frame.length >> 1))!, /truncated/);
  assert.match(zstdFrameProblem(frame.subarray(0, 3))!, /too short/);
  assert.match(zstdFrameProblem(Buffer.concat([frame, Buffer.from([1, 2, 3])]))!, /^3 bytes follow the frame$/);
  assert.match(zstdFrameProblem(Buffer.from('not compressed at all'))!, /magic number/);
});
