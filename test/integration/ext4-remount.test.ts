import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { s3rverClient } from '../helpers/s3rver-client.js';
import { startS3rver, s3rverFlags } from '../helpers/s3rver-server.js';
import { S3backerProcess } from '../helpers/s3backer-process.js';
import { skipUnlessFuse } from '../helpers/fuse-support.js';
import { mustRun } from '../helpers/run-command.js';
import { mountExt4 } from '../helpers/loop-device.js';
import { writeTree, hashTree } from '../helpers/file-tree.js';

test('ext4 on a bucket survives unmount and a new process: every byte, C-named objects, block-0 metadata', async (t) => {
  if (skipUnlessFuse(t, { loop: true })) return;
  const server = await startS3rver({ buckets: ['disk'] });
  const work = await mkdtemp(join(tmpdir(), 's3backer-ext4-'));
  const fuseDir = join(work, 'fuse');
  const fsDir = join(work, 'ext4');
  await mkdir(fuseDir);
  await mkdir(fsDir);
  const args = [...s3rverFlags(server), '--prefix=vol/', 'disk'];
  let proc: S3backerProcess | undefined;
  try {
    // First process: create the volume (64 MiB of 16 KiB blocks: ext4's 4 KiB writes exercise read-modify-write).
    proc = await S3backerProcess.start(fuseDir, ['--size=64m', '--blockSize=16k', ...args]);
    const diskFile = join(fuseDir, 'file');
    await mustRun('mkfs.ext4', ['-q', '-F', '-E', 'nodiscard', diskFile]);
    let unmountExt4 = await mountExt4(diskFile, fsDir);
    const written = await writeTree(fsDir);
    await mustRun('sync', []);
    await unmountExt4();
    assert.equal(await proc.unmount(), 0, `first s3backer exit status; output:\n${proc.output}`);

    // The bucket now holds C-named objects; block 0 records the geometry; the mounted flag is gone.
    const s3 = s3rverClient(server);
    const listing = await s3.send(new ListObjectsCommand({ Bucket: 'disk', MaxKeys: 1000 }));
    const keys = (listing.Contents ?? []).map((object) => object.Key!);
    assert.ok(keys.length > 10, `expected block objects, got ${keys.length}`);
    for (const key of keys) assert.match(key, /^vol\/[0-9a-f]{8}$/);
    assert.ok(!keys.includes('vol/s3backer-mounted'), 'mounted flag must be cleared at clean unmount');
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'disk', Key: 'vol/00000000' }));
    assert.equal(head.Metadata?.['s3backer-filesize'], String(64 << 20));
    assert.equal(head.Metadata?.['s3backer-blocksize'], String(16 << 10));
    assert.equal(head.ContentType, 'application/x-s3backer-block');
    s3.destroy();

    // Second process: no --size (auto-detected from block 0); every file hashes the same.
    proc = await S3backerProcess.start(fuseDir, args);
    unmountExt4 = await mountExt4(diskFile, fsDir);
    const read = await hashTree(fsDir);
    assert.deepEqual(read, written);

    // fstrim: ext4 discards the freed blocks, the loop device punches holes in the disk file, and
    // s3backer deletes the objects of the whole blocks.
    const countObjects = async () => (await s3again.send(new ListObjectsCommand({ Bucket: 'disk', MaxKeys: 1000 }))).Contents?.length ?? 0;
    const s3again = s3rverClient(server);
    const beforeTrim = await countObjects();
    await rm(join(fsDir, 'dir0'), { recursive: true });
    await rm(join(fsDir, 'dir1'), { recursive: true });
    await mustRun('sync', []);
    await mustRun('fstrim', [fsDir]);
    const afterTrim = await countObjects();
    s3again.destroy();
    t.diagnostic(`fstrim: ${beforeTrim} objects before, ${afterTrim} after`);
    assert.ok(afterTrim < beforeTrim, `fstrim deletes objects: ${beforeTrim} before, ${afterTrim} after`);
    await unmountExt4();
    const stats = await readFile(join(fuseDir, 'stats'), 'utf8');
    assert.match(stats, /^http_gets\s+\d+$/m);
    assert.match(stats, /^zero_block_cache_read_hits\s+\d+$/m);
    assert.equal(await proc.unmount(), 0, proc.output);
  } finally {
    await proc?.kill();
    await server.stop();
    await rm(work, { recursive: true, force: true });
  }
});
