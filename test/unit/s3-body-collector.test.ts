import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BodyCollector } from '../../plugins/s3/body-collector.js';

const bytes = (n: number, seed = 0) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff));

test('BodyCollector: one chunk of the announced length is returned as is (no copy)', () => {
  const chunk = bytes(65536);
  const body = new BodyCollector('65536');
  body.add(chunk);
  assert.equal(body.result(), chunk);
});

test('BodyCollector: chunks of an announced length land in one buffer of that length', () => {
  const whole = bytes(1 << 20, 3);
  for (const sizes of [[1000, (1 << 20) - 1000], [65536, 65536, (1 << 20) - 131072], Array.from({ length: 16 }, () => 65536)]) {
    const body = new BodyCollector(String(whole.length));
    let offset = 0;
    const chunks = sizes.map((size) => whole.subarray(offset, (offset += size)));
    for (const chunk of chunks) body.add(chunk);
    const result = body.result()!;
    assert.ok(result.equals(whole), `${sizes.length} chunks`);
    assert.equal(result.buffer.byteLength >= whole.length, true);
    assert.ok(chunks.every((chunk) => chunk.buffer !== result.buffer), 'a buffer of its own');
  }
});

test('BodyCollector: without Content-Length (chunked), one concat; empty bodies; a short or long body is no body', () => {
  const chunked = new BodyCollector(undefined);
  chunked.add(bytes(10, 1));
  chunked.add(bytes(20, 2));
  assert.ok(chunked.result()!.equals(Buffer.concat([bytes(10, 1), bytes(20, 2)])));
  const single = new BodyCollector(undefined);
  single.add(bytes(5));
  assert.ok(single.result()!.equals(bytes(5)));
  assert.equal(new BodyCollector(undefined).result()!.length, 0);
  assert.equal(new BodyCollector('0').result()!.length, 0);
  const short = new BodyCollector('100');
  short.add(bytes(60));
  assert.equal(short.result(), undefined);
  assert.equal(short.received, 60);
  const long = new BodyCollector('100');
  long.add(bytes(60));
  long.add(bytes(60));
  assert.equal(long.result(), undefined);
  const garbage = new BodyCollector('12abc');
  assert.equal(garbage.expected, undefined);
});
