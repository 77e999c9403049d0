import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { startS3rver, s3rverFlags, type S3rverServer } from '../helpers/s3rver-server.js';
import { putFixtureObjects, s3rverClient } from '../helpers/s3rver-client.js';
import { S3backerProcess } from '../helpers/s3backer-process.js';
import { skipUnlessFuse, fuseUnavailableReason } from '../helpers/fuse-support.js';
import { loadFixtureCases, fixturePlaintext, fixtureToStored, type FixtureCase } from '../helpers/c-fixtures.js';

/**
 * The compatibility proof through the whole program: a bucket holding the objects the C s3backer
 * wrote is mounted by ours over FUSE and reads back the exact plaintext; and ours, given the same
 * flags and the same writes into an empty bucket, leaves objects the C tool would have left, byte
 * for byte (plus our key-check object on encrypted volumes, which the C tool ignores).
 */
const cases = loadFixtureCases();
const KEY_CHECK = 's3backer-keycheck';
const NODE_HAS_ZSTD = typeof (await import('node:zlib') as { zstdCompress?: unknown }).zstdCompress === 'function';

let server: S3rverServer | undefined;
let client: S3Client | undefined;
let work: string;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 's3backer-cfx-'));
  if (fuseUnavailableReason()) return;
  server = await startS3rver({ buckets: cases.flatMap((c) => [c.bucket, `${c.bucket}-ours`]) });
  client = s3rverClient(server);
  for (const fixture of cases) await putFixtureObjects(client, fixture);
});
after(async () => {
  client?.destroy();
  await server?.stop();
  await rm(work, { recursive: true, force: true });
});

/** The fixture's flags as our command line takes them (the C common flags name its own S3 client). */
function flagsOf(fixture: FixtureCase): string[] {
  return [...s3rverFlags(server!), ...fixture.flags];
}

async function mountPoint(name: string): Promise<string> {
  const path = join(work, name);
  await mkdir(path, { recursive: true });
  return path;
}

async function objectsOf(bucket: string): Promise<Map<string, { body: Buffer; contentEncoding: string | undefined; contentType: string | undefined; metadata: Record<string, string> }>> {
  const keys = (await client!.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents?.map((o) => o.Key!) ?? [];
  const objects = new Map();
  for (const key of keys) {
    const got = await client!.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    objects.set(key, { body: Buffer.from(await got.Body!.transformToByteArray()), contentEncoding: got.ContentEncoding, contentType: got.ContentType, metadata: got.Metadata ?? {} });
  }
  return objects;
}

for (const fixture of cases) {
  test(`C fixture "${fixture.name}" mounts over FUSE from s3rver and reads its exact plaintext`, { timeout: 90_000 }, async (t) => {
    if (skipUnlessFuse(t)) return;
    const mnt = await mountPoint(`read-${fixture.name}`);
    // Without --size/--blockSize: the geometry comes from block 0's metadata, as the C tool's would.
    const flags = flagsOf(fixture).filter((flag) => !/^--(size|blockSize)=/.test(flag));
    const proc = await S3backerProcess.start(mnt, [...flags, '--readOnly', fixture.bucket]);
    try {
      const disk = await open(join(mnt, 'file'), 'r');
      try {
        assert.equal((await disk.stat()).size, fixture.size);
        for (const write of fixture.writes) {
          const back = Buffer.alloc(fixture.blockSize);
          await disk.read(back, 0, back.length, write.block * fixture.blockSize);
          assert.ok(back.equals(fixturePlaintext(write.kind, write.block, fixture.blockSize)), `block ${write.block} (${write.kind})`);
        }
        const unwritten = Buffer.alloc(fixture.blockSize, 1);
        await disk.read(unwritten, 0, unwritten.length, (fixture.numBlocks - 1) * fixture.blockSize);
        assert.ok(unwritten.equals(Buffer.alloc(fixture.blockSize)), 'a block never written reads as zeros');
      } finally {
        await disk.close();
      }
    } finally {
      assert.equal(await proc.unmount(), 0, proc.output);
      await proc.kill();
    }
  });

  test(`C fixture "${fixture.name}": ours, with the same flags and writes, stores the C tool's objects byte for byte`, { timeout: 90_000 }, async (t) => {
    if (skipUnlessFuse(t)) return;
    const mnt = await mountPoint(`write-${fixture.name}`);
    const bucket = `${fixture.bucket}-ours`;
    // The salt of the key derivation is "bucket/prefix": our bucket's name differs, so encrypted
    // bodies can only match under the C tool's bucket name. Write there after moving its objects aside.
    const target = fixture.encryption ? fixture.bucket : bucket;
    if (fixture.encryption) await emptyBucket(fixture.bucket);
    const proc = await S3backerProcess.start(mnt, [...flagsOf(fixture), target]);
    try {
      const disk = await open(join(mnt, 'file'), 'r+');
      try {
        for (const write of fixture.writes) {
          await disk.write(fixturePlaintext(write.kind, write.block, fixture.blockSize), 0, fixture.blockSize, write.block * fixture.blockSize);
        }
        await disk.sync();
      } finally {
        await disk.close();
      }
    } finally {
      assert.equal(await proc.unmount(), 0, proc.output);
      await proc.kill();
    }
    const ours = await objectsOf(target);
    const expectedKeys = fixture.objects.map((o) => o.key);
    if (fixture.encryption) expectedKeys.push(fixture.prefix + KEY_CHECK);
    assert.deepEqual([...ours.keys()].sort(), expectedKeys.sort(), 'same objects (zero block deleted, mounted flag cleared), plus the key check when encrypted');
    for (const expected of fixture.objects) {
      const theirs = fixtureToStored(expected);
      const mine = ours.get(expected.key)!;
      assert.equal(mine.contentEncoding, theirs.contentEncoding, `${expected.key} Content-Encoding`);
      assert.equal(mine.contentType, theirs.contentType, `${expected.key} Content-Type`);
      assert.deepEqual(mine.metadata, theirs.metadata, `${expected.key} metadata (sizes on block 0, the HMAC)`);
      if (fixture.compression?.alg === 'zstd' && NODE_HAS_ZSTD && !mine.body.equals(theirs.body)) {
        // Node's own zstd (>= 22.15) is another zstd build than the C fixture's 1.5.4, and its
        // output may differ; zstd-napi (Node 20) was measured identical, so there it is asserted.
        // The read test above proves the C bytes decode; the engine tests prove ours round-trip.
        t.diagnostic(`${expected.key}: node:zlib's zstd bytes differ from zstd 1.5.4's`);
        continue;
      }
      assert.ok(mine.body.equals(theirs.body), `${expected.key} body`);
    }
  });
}

async function emptyBucket(bucket: string): Promise<void> {
  const { DeleteObjectCommand } = await import('@aws-sdk/client-s3');
  for (const key of (await objectsOf(bucket)).keys()) await client!.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
}
