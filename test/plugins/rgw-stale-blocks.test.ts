// A block changed behind a mount's back, on a real S3 (radosgw), is noticed, never served as if it
// were the version the mount knows: md5-protect's strict reads (If-Match GETs, answered 412 by
// the rgw.server()) and the block cache file's ETag check of reloaded blocks (HEAD). s3rver cannot
// show the first: it ignores If-Match.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { Engine } from '../../src/engine/engine.js';
import type { S3BackerPlugin } from '../../src/engine/plugin.js';
import type { OptionValues } from '../../src/config/options.js';
import { isS3BackerError } from '../../src/errors/s3backer-error.js';
import { s3Plugin } from '../../plugins/s3/index.js';
import { retryPlugin } from '../../plugins/retry/index.js';
import { md5ProtectPlugin } from '../../plugins/md5-protect/index.js';
import { blockCachePlugin } from '../../plugins/block-cache/index.js';
import { BLOCK_CONTENT_TYPE } from '../../src/engine/object-pipeline.js';
import { radosgwClient } from '../helpers/rgw-server.js';
import { radosgwPerFile } from '../helpers/rgw-per-file.js';
import { testConfig } from '../helpers/test-config.js';

const BLOCK = 4096;
const BLOCKS = 16;

const rgw = radosgwPerFile('stale');
const skip = rgw.skip;
const freshBucket = () => rgw.freshBucket();

/** A mount of the volume `vol/` in `bucket` through the s3 store on radosgw, with `plugins` on top. */
async function mount(bucket: string, plugins: S3BackerPlugin[], options: { objectPath?: 'lean' | 'sdk'; config?: Partial<OptionValues> } = {}) {
  const config = testConfig({
    store: 's3', bucket, baseURL: rgw.server().endpoint, accessId: rgw.server().accessId, accessKey: rgw.server().accessKey,
    size: BLOCKS * BLOCK, blockSize: BLOCK, prefix: 'vol/', initialRetryPause: 10, maxRetryPause: 200, ...options.config,
  });
  const engine = Engine.create(config, [s3Plugin({ objectPath: options.objectPath ?? 'lean' }), retryPlugin(config), ...plugins]);
  const device = await engine.mount();
  const stat = (name: string) => new RegExp(`^${name} +(.*)$`, 'm').exec(engine.stats.render())?.[1]?.trim();
  return { engine, device, stat };
}

/** Another writer: a PUT of a whole block straight to radosgw, as another host's s3backer would. */
async function putBehindOurBack(bucket: string, block: number, data: Buffer): Promise<void> {
  const client = radosgwClient(rgw.server());
  try {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: `vol/${block.toString(16).padStart(8, '0')}`, Body: data, ContentType: BLOCK_CONTENT_TYPE }));
  } finally {
    client.destroy();
  }
}

for (const objectPath of ['lean', 'sdk'] as const) {
  test(`md5-protect on radosgw (objectPath: ${objectPath}): a block another writer replaced fails with S3B_STALE_READ after If-Match GETs answered 412; without md5-protect the other version is served`, { skip, timeout: 30_000 }, async () => {
    const bucket = await freshBucket();
    const ours = randomBytes(BLOCK);
    const theirs = randomBytes(BLOCK);
    const guarded = await mount(bucket, [md5ProtectPlugin({ size: BLOCKS })], { objectPath });
    try {
      await guarded.device.write(3 * BLOCK, ours);
      assert.ok((await guarded.device.read(3 * BLOCK, BLOCK)).equals(ours), 'our own version reads back (If-Match GET answered 200)');
      assert.equal(guarded.stat('http_stale'), '0');

      await putBehindOurBack(bucket, 3, theirs);
      await assert.rejects(guarded.device.read(3 * BLOCK, BLOCK), (error: unknown) =>
        isS3BackerError(error, 'S3B_STALE_READ') && /If-Match failed/.test((error as Error).message) && /--maxRetryPause/.test((error as Error).message));
      // Every read of it was refused by radosgw: the 412s are the C tool's http_stale.
      const stale = Number(guarded.stat('http_stale'));
      assert.ok(stale >= 2, `radosgw answered 412 to each strict read (${stale})`);
      assert.equal(guarded.stat('http_num_retries'), '0', 'a 412 is an answer, not a failure to retry');
      console.log(`${objectPath}: ${stale} strict reads of the replaced block, each answered 412, then S3B_STALE_READ`);
    } finally {
      await guarded.engine.shutdown();
    }

    // The control: a mount that knows nothing of our write reads what the store has.
    const plain = await mount(bucket, [], { objectPath });
    try {
      assert.ok((await plain.device.read(3 * BLOCK, BLOCK)).equals(theirs));
    } finally {
      await plain.engine.shutdown();
    }
  });
}

test('block cache file on radosgw: reloaded clean blocks are checked by ETag (HEAD); the one replaced behind our back is read again, the others are not', { skip, timeout: 30_000 }, async () => {
  const bucket = await freshBucket();
  const dir = await mkdtemp(join(tmpdir(), 's3backer-rgw-cache-'));
  const file = join(dir, 'cache');
  const filled = (byte: number) => Buffer.alloc(BLOCK, byte);
  const cache = (noVerify = false) => [blockCachePlugin({ file, writeDelay: 0, readAhead: 0, retryPause: 10, noVerify })];
  try {
    const first = await mount(bucket, cache());
    try {
      for (let block = 0; block < 6; block++) await first.device.write(block * BLOCK, filled(block + 1));
    } finally {
      await first.engine.shutdown();
    }

    await putBehindOurBack(bucket, 2, filled(0xee));

    const second = await mount(bucket, cache());
    try {
      assert.equal(second.stat('block_cache_initial_size'), '6 blocks');
      for (let block = 0; block < 6; block++) {
        const expected = block === 2 ? filled(0xee) : filled(block + 1);
        assert.ok((await second.device.read(block * BLOCK, BLOCK)).equals(expected), `block ${block}`);
      }
      assert.equal(second.stat('block_cache_verified'), '5');
      assert.equal(second.stat('block_cache_mismatch'), '1');
      assert.equal(second.stat('http_normal_blocks_read'), '1', 'only the replaced block was downloaded');
    } finally {
      await second.engine.shutdown();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
