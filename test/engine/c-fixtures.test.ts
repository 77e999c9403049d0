import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine.js';
import { MemoryStore, memoryPlugin } from '../../plugins/memory/index.js';
import { zeroMapPlugin } from '../../plugins/zero-map/index.js';
import { blockHash, BlockGeometry } from '../../src/engine/block-geometry.js';
import { isS3BackerError } from '../../src/errors/s3backer-error.js';
import { testConfig } from '../helpers/test-config.js';
import {
  loadFixtureCases, assertFixturePlaintext, assertStoredAsFixture, fixtureVolume, writeFixturePlaintext, type FixtureCase,
} from '../helpers/c-fixtures.js';
import type { MemoryVolume } from '../../plugins/memory/index.js';

const cases = loadFixtureCases();

function engineFor(fixture: FixtureCase, volume: MemoryVolume, autoDetect: boolean) {
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
    const engine = engineFor(fixture, fixtureVolume(fixture), true);
    const device = await engine.mount();
    assert.equal(device.size, fixture.size);
    assert.equal(device.geometry.blockSize, fixture.blockSize);
    await assertFixturePlaintext(device, fixture);
    assert.ok((await device.read(4 * fixture.blockSize, fixture.blockSize)).equals(Buffer.alloc(fixture.blockSize)), 'never-written block reads as zeros');
    await engine.shutdown();
  });

  test(`C fixture "${fixture.name}": writing the same blocks stores byte-identical objects and headers`, async () => {
    const volume: MemoryVolume = new Map();
    const engine = engineFor(fixture, volume, false);
    await writeFixturePlaintext(await engine.mount(), fixture);
    await engine.shutdown();
    assertStoredAsFixture(volume, fixture);
  });
}

for (const fixture of cases.filter((c) => c.compression || c.encryption)) {
  test(`C fixture "${fixture.name}": without its codec configured, reading names the block and the encoding`, async () => {
    const engine = engineFor(fixture, fixtureVolume(fixture), true);
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
