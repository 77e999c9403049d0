// End to end on a real S3 (radosgw): the built CLI serves the disk over FUSE, ext4 on it through a
// loop device, a tree of files written, everything unmounted, then a NEW process mounts the
// volume again and every file hashes the same. radosgw checks every request's signature, so
// each request of both processes was signed right.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { S3Store } from '../../plugins/s3/index.js';
import { fuseUnavailableReason } from '../helpers/fuse-support.js';
import { S3backerProcess } from '../helpers/s3backer-process.js';
import { mustRun } from '../helpers/run-command.js';
import { mountExt4 } from '../helpers/loop-device.js';
import { writeTree, hashTree } from '../helpers/file-tree.js';
import { startRadosgw, radosgwAvailability, radosgwClient, rgwFlags, logRadosgwSkip, type RadosgwServer } from '../helpers/rgw-server.js';

const rgwSkip = radosgwAvailability();
logRadosgwSkip(rgwSkip);
const skip = rgwSkip ?? fuseUnavailableReason({ loop: true });
if (rgwSkip === undefined && skip !== undefined) console.log(`skipping: ${skip}`);

let server: RadosgwServer;
before(async () => {
  if (skip !== undefined) return;
  server = await startRadosgw({ buckets: ['disk'] });
  console.log(`radosgw answered ${server.startupMs} ms after the start (${server.endpoint})`);
});
after(async () => {
  await server?.stop();
});

/** Every key under `prefix`, through the s3 store's own listing (ListObjects v1, marker paging). */
async function listKeys(prefix: string): Promise<string[]> {
  const store = new S3Store({
    endpoint: server.endpoint, bucket: 'disk', region: server.region, forcePathStyle: true,
    credentials: { kind: 'static', accessKeyId: server.accessId, secretAccessKey: server.accessKey, source: 'test' }, timeoutMs: 10_000,
  });
  try {
    const keys: string[] = [];
    for await (const key of store.list({ prefix })) keys.push(key);
    return keys;
  } finally {
    await store.close();
  }
}

test('ext4 on radosgw survives unmount and a new process: every sha256 matches; C-named objects, block-0 metadata, flag cleared', { skip, timeout: 180_000 }, async () => {
  const work = await mkdtemp(join(tmpdir(), 's3backer-rgw-ext4-'));
  const fuseDir = join(work, 'fuse');
  const fsDir = join(work, 'ext4');
  await mkdir(fuseDir);
  await mkdir(fsDir);
  const args = [...rgwFlags(server), 'disk/vol'];
  const diskFile = join(fuseDir, 'file');
  let proc: S3backerProcess | undefined;
  let unmountExt4: (() => Promise<void>) | undefined;
  try {
    // First process: a new volume of 64 MiB in 16 KiB blocks (ext4's 4 KiB writes read-modify-write
    // blocks); the MD5 cache on, so blocks read back after a write go out as If-Match GETs.
    const started = performance.now();
    proc = await S3backerProcess.start(fuseDir, ['--size=64m', '--blockSize=16k', '--md5CacheSize=4096', ...args]);
    await mustRun('mkfs.ext4', ['-q', '-F', '-E', 'nodiscard', diskFile]);
    unmountExt4 = await mountExt4(diskFile, fsDir);
    const written = await writeTree(fsDir);
    await mustRun('sync', []);
    await unmountExt4();
    unmountExt4 = undefined;
    const firstStats = await readFile(join(fuseDir, 'stats'), 'utf8');
    assert.match(firstStats, /^http_stale\s+0$/m, 'no read found another version than the one written');
    assert.match(firstStats, /^http_num_retries\s+0$/m);
    assert.equal(await proc.unmount(), 0, `first s3backer exit status; output:\n${proc.output}`);
    const firstMs = performance.now() - started;

    const keys = await listKeys('vol/');
    assert.ok(keys.length > 10, `expected block objects, got ${keys.length}`);
    for (const key of keys) assert.match(key, /^vol\/[0-9a-f]{8}$/);
    assert.ok(!keys.includes('vol/s3backer-mounted'), 'the mounted flag is cleared at a clean unmount');
    const client = radosgwClient(server);
    try {
      const head = await client.send(new HeadObjectCommand({ Bucket: 'disk', Key: 'vol/00000000' }));
      assert.equal(head.Metadata?.['s3backer-filesize'], String(64 << 20));
      assert.equal(head.Metadata?.['s3backer-blocksize'], String(16 << 10));
      assert.equal(head.ContentType, 'application/x-s3backer-block');
    } finally {
      client.destroy();
    }

    // Second process: size auto-detected from block 0, and --listBlocks surveys the volume with
    // radosgw's listing while the reads go on.
    const again = performance.now();
    proc = await S3backerProcess.start(fuseDir, ['--listBlocks', ...args]);
    unmountExt4 = await mountExt4(diskFile, fsDir);
    assert.deepEqual(await hashTree(fsDir), written);
    await unmountExt4();
    unmountExt4 = undefined;
    assert.equal(await proc.unmount(), 0, `second s3backer exit status; output:\n${proc.output}`);
    console.log(`${written.size} files; ${keys.length} objects; first process ${Math.round(firstMs)} ms (mkfs, write, sync, unmount), second ${Math.round(performance.now() - again)} ms (mount, hash every file, unmount)`);
  } finally {
    await unmountExt4?.().catch(() => {});
    await proc?.kill();
    await rm(work, { recursive: true, force: true });
  }
});
