import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine.js';
import type { S3BackerPlugin } from '../../src/engine/plugin.js';
import { BlockGeometry } from '../../src/engine/block-geometry.js';
import { S3Store } from '../../plugins/s3/index.js';
import { zeroMapPlugin } from '../../plugins/zero-map/index.js';
import { startS3rver, type S3rverServer } from '../helpers/s3rver-server.js';
import { testConfig } from '../helpers/test-config.js';

const BUCKET = 'survey';
const PREFIX = 'vol/';
const BLOCK = 4096;
const BLOCKS = 1 << 16;
/** More than one ListObjects page (s3rver, like S3, answers at most 1000 keys). */
const WRITTEN = Array.from({ length: 1500 }, (_, i) => (i * 41 + 5) % BLOCKS);
const filled = (block: number) => Buffer.alloc(BLOCK, (block % 251) + 1);

let server: S3rverServer;
const geometry = new BlockGeometry(BLOCK * BLOCKS, BLOCK, PREFIX, true);

function newStore(): S3Store {
  return new S3Store({
    endpoint: server.endpoint, bucket: BUCKET, region: 'us-east-1', forcePathStyle: true,
    credentials: { kind: 'static', accessKeyId: server.accessId, secretAccessKey: server.accessKey, source: 'test' },
    timeoutMs: 10_000, conditionalPut: false,
  });
}

before(async () => {
  server = await startS3rver({ buckets: [BUCKET] });
  const store = newStore();
  try {
    const keys = WRITTEN.map((block) => [geometry.key(block), filled(block)] as const);
    // Keys the survey must pass over: not blocks of this volume, or not its names.
    const noise = [`${PREFIX}README`, 'other/00000001', `${PREFIX}00000001`, `${PREFIX}deadbeef-00000001`, `${PREFIX}zzz`];
    for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map(([key, body]) => store.put(key, body)));
    for (const key of noise) await store.put(key, Buffer.from('not a block'));
  } finally {
    await store.close();
  }
});

after(async () => {
  await server?.stop();
});

function stat(text: string, name: string): string {
  const match = new RegExp(`^${name}\\s+(.*)$`, 'm').exec(text);
  assert.ok(match, `stats has ${name}`);
  return match[1]!;
}

for (const threads of [1, 16]) {
  test(`s3rver, --blockHashPrefix, ${WRITTEN.length} blocks, ${threads} listing(s): the survey pages through every block and only those`, { timeout: 60_000 }, async () => {
    const store = newStore();
    const provide: S3BackerPlugin = { name: 'test-store', apply: (e) => e.hooks.createStore.for(e.config.store).tapPromise('test-store', async () => store) };
    const engine = Engine.create(testConfig({ store: 's3', prefix: PREFIX, blockHashPrefix: true, size: BLOCK * BLOCKS, blockSize: BLOCK }),
      [provide, zeroMapPlugin({ listBlocks: true, listBlocksThreads: threads })]);
    const device = await engine.mount();
    try {
      const deadline = Date.now() + 30_000;
      while (stat(engine.stats.render(), 'zero_block_survey').startsWith('running') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      const stats = engine.stats.render();
      assert.equal(stat(stats, 'zero_block_survey'), 'completed');
      assert.equal(stat(stats, 'zero_block_survey_objects'), String(WRITTEN.length), 'every block, across pages, and none of the other keys');
      assert.equal(stat(stats, 'zero_block_cache_size'), `${BLOCKS - WRITTEN.length} blocks`);

      const http = (name: string) => Number(Object.fromEntries(store.stats.lines())[name]);
      const gets = () => http('http_gets');
      const deletes = () => http('http_deletes');
      const before = gets();
      // Blocks 0..4 were never written; 5 and 46 were.
      for (let block = 0; block < 5; block++) assert.ok((await device.read(block * BLOCK, BLOCK)).equals(Buffer.alloc(BLOCK)));
      assert.equal(gets(), before, 'never-written blocks cost no GET');
      assert.ok((await device.read(46 * BLOCK, BLOCK)).equals(filled(46)));
      assert.equal(gets(), before + 1);

      // A trim of blocks 0..99 (mkfs's discard) deletes the 3 that exist (5, 46, 87), nothing else.
      const deletesBefore = deletes();
      await device.trim(0, 100 * BLOCK);
      assert.equal(deletes() - deletesBefore, 3);
      for (const block of [5, 46, 87]) await device.write(block * BLOCK, filled(block)); // put them back for the next mount
    } finally {
      await engine.shutdown();
    }
  });
}
