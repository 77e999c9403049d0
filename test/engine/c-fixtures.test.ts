import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Engine } from '../../src/engine/engine.js';
import { MemoryStore, memoryPlugin } from '../../plugins/memory/index.js';
import { zeroMapPlugin } from '../../plugins/zero-map/index.js';
import { blockHash, BlockGeometry } from '../../src/engine/block-geometry.js';
import { isS3BackerError } from '../../src/errors/s3backer-error.js';
import { testConfig } from '../helpers/test-config.js';
import { loadFixtureCases, fixturePlaintext, fixtureToStored, type FixtureCase } from '../helpers/c-fixtures.js';

const cases = loadFixtureCases();
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

function volumeOf(fixture: FixtureCase): Map<string, ReturnType<typeof fixtureToStored>> {
  return new Map(fixture.objects.map((object) => [object.key, fixtureToStored(object)]));
}

function engineFor(fixture: FixtureCase, volume: Map<string, ReturnType<typeof fixtureToStored>>, autoDetect: boolean) {
  return Engine.create(testConfig({
    store: 'memory', prefix: fixture.prefix, blockHashPrefix: fixture.blockHashPrefix === true,
    ...(autoDetect ? {} : { size: fixture.size, blockSize: fixture.blockSize }),
  }), [memoryPlugin({ volume }), zeroMapPlugin()]);
}

test('object names match the C tool for every fixture, including --blockHashPrefix', () => {
  for (const fixture of cases) {
    const geometry = new BlockGeometry(fixture.size, fixture.blockSize, fixture.prefix, fixture.blockHashPrefix === true);
    for (const write of fixture.writes) {
      assert.equal(geometry.key(write.block), write.key, `${fixture.name} block ${write.block}`);
      assert.equal(geometry.parseKey(write.key), write.block);
    }
  }
  assert.equal(blockHash(0).toString(16), 'c448b72c');
  assert.equal(new BlockGeometry(1 << 20, 4096, '', true).parseKey('00000000-00000000'), undefined, 'a wrong hash is not a block');
});

for (const fixture of cases.filter((c) => !c.compression && !c.encryption)) {
  test(`C fixture "${fixture.name}": mounts with auto-detected geometry and reads every block`, async () => {
    const engine = engineFor(fixture, volumeOf(fixture), true);
    const device = await engine.mount();
    assert.equal(device.size, fixture.size);
    assert.equal(device.geometry.blockSize, fixture.blockSize);
    for (const write of fixture.writes) {
      const data = await device.read(write.block * fixture.blockSize, fixture.blockSize);
      assert.ok(data.equals(fixturePlaintext(write.kind, write.block, fixture.blockSize)), `block ${write.block} (${write.kind})`);
      if (write.plaintextSha256) assert.equal(sha256(data), write.plaintextSha256);
    }
    assert.ok((await device.read(4 * fixture.blockSize, fixture.blockSize)).equals(Buffer.alloc(fixture.blockSize)), 'never-written block reads as zeros');
    await engine.shutdown();
  });

  test(`C fixture "${fixture.name}": writing the same blocks stores byte-identical objects and headers`, async () => {
    const volume = new Map();
    const engine = engineFor(fixture, volume, false);
    const device = await engine.mount();
    for (const write of fixture.writes) await device.write(write.block * fixture.blockSize, fixturePlaintext(write.kind, write.block, fixture.blockSize));
    await engine.shutdown();
    const store = new MemoryStore(volume);
    const keys: string[] = [];
    for await (const key of store.list()) keys.push(key);
    assert.deepEqual(keys, fixture.objects.map((o) => o.key), 'same keys (zero block deleted, mounted flag cleared)');
    for (const expected of fixture.objects) {
      const ours = (await store.get(expected.key))!;
      const theirs = fixtureToStored(expected);
      assert.ok(ours.body.equals(theirs.body), `${expected.key} body`);
      assert.deepEqual(ours.metadata, theirs.metadata, `${expected.key} metadata`);
      assert.equal(ours.contentType, theirs.contentType);
      assert.equal(ours.contentEncoding, theirs.contentEncoding);
    }
  });
}

for (const fixture of cases.filter((c) => c.compression || c.encryption)) {
  test(`C fixture "${fixture.name}": without its codec configured, reading names the block and the encoding`, async () => {
    const engine = engineFor(fixture, volumeOf(fixture), true);
    const device = await engine.mount();
    const token = fixture.objects[0]!.headers['content-encoding']!;
    await assert.rejects(device.read(fixture.blockSize, 1), (e) =>
      isS3BackerError(e, 'S3B_UNKNOWN_ENCODING') && e.block === 1 && (e as Error).message.startsWith('block 00000001: ') && (e as Error).message.includes(token));
    await engine.shutdown();
  });
}

test('the mounted flag has the C tool\'s shape: text/plain, %08x token header, "<host>\\n<YYYYMMDDTHHMMSSZ>\\n"', async () => {
  const fixture = cases.find((c) => c.mountToken)!;
  const volume = new Map();
  const engine = engineFor(fixture, volume, false);
  await engine.mount();
  const ours = (await new MemoryStore(volume).get(fixture.mountToken!.key))!;
  assert.equal(ours.contentType, fixture.mountToken!.headers['content-type']);
  assert.match(ours.metadata['s3backer-mount-token']!, /^[0-9a-f]{8}$/);
  assert.match(ours.body.toString(), /^[^\n]+\n\d{8}T\d{6}Z\n$/);
  assert.match(fixture.mountToken!.bodyText, /^[^\n]+\n\d{8}T\d{6}Z\n$/);
  await engine.shutdown();

  // A flag the C tool left behind blocks our mount, naming its token.
  volume.set(fixture.mountToken!.key, { body: Buffer.from(fixture.mountToken!.bodyText), etag: '"x"', size: 20, contentType: 'text/plain', metadata: { 's3backer-mount-token': fixture.mountToken!.headers['x-amz-meta-s3backer-mount-token']! } });
  await assert.rejects(engineFor(fixture, volume, false).mount(), (e) =>
    isS3BackerError(e, 'S3B_MOUNTED_ELSEWHERE') && (e as Error).message.includes(`0x${fixture.mountToken!.headers['x-amz-meta-s3backer-mount-token']}`));
});
