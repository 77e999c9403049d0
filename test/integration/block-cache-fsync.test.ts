import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, readFile, rm, open } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsCommand, GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { s3rverClient } from '../helpers/s3rver-client.js';
import { startS3rver, s3rverFlags } from '../helpers/s3rver-server.js';
import { S3backerProcess } from '../helpers/s3backer-process.js';
import { skipUnlessFuse } from '../helpers/fuse-support.js';
import { mustRun, runCommand } from '../helpers/run-command.js';
import { mountExt4 } from '../helpers/loop-device.js';
import { sha256 } from '../helpers/file-tree.js';

const SIZE = 64 << 20;
const BLOCK = 64 << 10;

/**
 * The disk image as the bucket holds it right now (missing objects are zeros), read straight from
 * the S3 server, not through the mount.
 */
async function imageFromBucket(s3: S3Client, bucket: string, prefix: string, into: string): Promise<number> {
  const file = await open(into, 'w');
  let objects = 0;
  try {
    await file.truncate(SIZE);
    let marker: string | undefined;
    for (;;) {
      const page = await s3.send(new ListObjectsCommand({ Bucket: bucket, Prefix: prefix, ...(marker ? { Marker: marker } : {}) }));
      for (const { Key } of page.Contents ?? []) {
        const block = /^[0-9a-f]{8}$/.test(Key!.slice(prefix.length)) ? parseInt(Key!.slice(prefix.length), 16) : undefined;
        if (block === undefined) continue;
        const body = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key }))).Body!.transformToByteArray());
        assert.equal(body.length, BLOCK, `object ${Key} has the block size`);
        await file.write(body, 0, BLOCK, block * BLOCK);
        objects++;
      }
      if (!page.IsTruncated) break;
      marker = page.Contents!.at(-1)!.Key;
    }
  } finally {
    await file.close();
  }
  return objects;
}

test('fsync through ext4 on a loop device reaches S3 even with a 60 s write delay; the bucket alone holds a clean file system', { timeout: 120_000 }, async (t) => {
  if (skipUnlessFuse(t, { loop: true })) return;
  const server = await startS3rver({ buckets: ['disk'] });
  const work = await mkdtemp(join(tmpdir(), 's3backer-fsync-'));
  const fuseDir = join(work, 'fuse');
  const fsDir = join(work, 'ext4');
  const image = join(work, 'from-bucket.img');
  const checkDir = join(work, 'check');
  await Promise.all([mkdir(fuseDir), mkdir(fsDir), mkdir(checkDir)]);
  const s3 = s3rverClient(server);
  let proc: S3backerProcess | undefined;
  let unmountExt4: (() => Promise<void>) | undefined;
  let checkMounted = false;
  try {
    proc = await S3backerProcess.start(fuseDir, [
      ...s3rverFlags(server), '--prefix=vol/',
      `--size=${SIZE}`, `--blockSize=${BLOCK}`, '--blockCacheWriteDelay=60000', 'disk',
    ]);
    const diskFile = join(fuseDir, 'file');
    await mustRun('mkfs.ext4', ['-q', '-F', '-E', 'nodiscard', diskFile]);
    unmountExt4 = await mountExt4(diskFile, fsDir);
    const data = randomBytes(3 * (1 << 20) + 12345);
    await writeFile(join(fsDir, 'synced.bin'), data);
    await mustRun('sync', []);

    // Nothing has waited out the 60 s delay: whatever is in the bucket got there through fsync.
    const objects = await imageFromBucket(s3, 'disk', 'vol/', image);
    t.diagnostic(`${objects} block objects in the bucket after sync`);
    const fsck = await runCommand('e2fsck', ['-fn', image]);
    assert.equal(fsck.code, 0, `e2fsck of the bucket's image:\n${fsck.stdout}${fsck.stderr}`);
    // The snapshot is of a mounted file system: its journal needs replaying, which a read-write
    // mount of this private copy does (a read-only one refuses).
    await mustRun('mount', ['-o', 'loop', image, checkDir]);
    checkMounted = true;
    const copy = await readFile(join(checkDir, 'synced.bin'));
    assert.equal(sha256(copy), sha256(data));

    await unmountExt4();
    unmountExt4 = undefined;
    assert.equal(await proc.unmount(), 0, proc.output);
  } finally {
    if (checkMounted) await runCommand('umount', [checkDir]);
    await unmountExt4?.().catch(() => {});
    await proc?.kill();
    s3.destroy();
    await server.stop();
    await rm(work, { recursive: true, force: true });
  }
});
