// `npm run demo`: the main job end to end on an embedded default, no AWS account needed.
// Starts a local S3 API server (s3rver) on 127.0.0.1, mounts a 256 MiB disk on a bucket of it with
// bin/s3backer (in the background, as a user would), makes ext4 on it, writes and reads a file,
// prints the stats file and the objects in the bucket, unmounts, and waits for s3backer to exit.
import { mkdtemp, mkdir, writeFile, readFile, rm } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startS3rver } from '../test/helpers/s3rver-server.js';
import { fuseUnavailableReason } from '../test/helpers/fuse-support.js';
import { mustRun, runCommand } from '../test/helpers/run-command.js';
import { mountExt4 } from '../test/helpers/loop-device.js';
import { S3BACKER_BIN, processAlive } from '../test/helpers/s3backer-process.js';
import { mountedPaths } from '../src/frontends/fuse/mount-table.js';
import { S3Client, ListObjectsCommand } from '@aws-sdk/client-s3';

const say = (text: string) => process.stdout.write(`\n== ${text}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

async function main(): Promise<void> {
  // As bin/s3backer does: the SDK's Node-20 deprecation notice is noise in a demo's output.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const blocked = fuseUnavailableReason({ loop: true });
  if (blocked) throw new Error(`${blocked}; the demo mounts a FUSE disk and a loop device (try: sudo npm run demo)`);

  say('starting a local S3 API server (s3rver) on 127.0.0.1');
  const server = await startS3rver({ buckets: ['demo-bucket'] });
  const work = await mkdtemp(join(tmpdir(), 's3backer-demo-'));
  const mnt = join(work, 'mnt');
  const fs = join(work, 'ext4');
  await mkdir(mnt);
  await mkdir(fs);
  let pid: number | undefined;
  let unmountExt4: (() => Promise<void>) | undefined;
  try {
    console.log(`server: ${server.endpoint} (data in ${server.directory})`);
    const args = [`--baseURL=${server.endpoint}`, `--accessId=${server.accessId}`, `--accessKey=${server.accessKey}`,
      '--size=256m', '--blockSize=64k', 'demo-bucket/disk1', mnt];
    say(`s3backer ${args.join(' ')}`);
    const started = await runCommand(S3BACKER_BIN, args, { timeoutMs: 30_000 });
    process.stdout.write(started.stderr);
    if (started.code !== 0) throw new Error(`s3backer failed to mount (exit ${started.code})`);
    pid = Number(/s3backer process (\d+)/.exec(started.stderr)?.[1]);
    console.log(`mounted; background process ${pid}; ${mnt} holds: ${(await mustRun('ls', ['-l', mnt])).trim()}`);

    say('mkfs.ext4 on the disk file, loop-mounted with direct I/O');
    await mustRun('mkfs.ext4', ['-q', '-F', '-E', 'nodiscard', join(mnt, 'file')]);
    unmountExt4 = await mountExt4(join(mnt, 'file'), fs);
    const data = randomBytes(8 << 20);
    await writeFile(join(fs, 'hello.bin'), data);
    await writeFile(join(fs, 'hello.txt'), 'Hello from a disk in a bucket!\n');
    await mustRun('sync', []);
    await unmountExt4();
    unmountExt4 = await mountExt4(join(mnt, 'file'), fs);
    const back = await readFile(join(fs, 'hello.bin'));
    console.log(`wrote and re-read 8 MiB: sha256 ${sha256(back) === sha256(data) ? 'matches' : 'DIFFERS'} (${sha256(back).slice(0, 16)}...)`);
    console.log(`hello.txt: ${(await readFile(join(fs, 'hello.txt'), 'utf8')).trim()}`);
    console.log((await mustRun('df', ['-h', fs])).trim());
    await unmountExt4();
    unmountExt4 = undefined;

    say(`the stats file (${join(mnt, 'stats')})`);
    process.stdout.write(await readFile(join(mnt, 'stats'), 'utf8'));

    say('unmounting; s3backer flushes, clears the mounted flag and exits');
    await mustRun('umount', [mnt]);
    for (let i = 0; i < 600 && pid && processAlive(pid); i++) await sleep(100);
    if (pid && processAlive(pid)) throw new Error(`s3backer process ${pid} did not exit within 60 s`);
    pid = undefined;
    const s3 = new S3Client({ endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: server.accessId, secretAccessKey: server.accessKey } });
    const keys: string[] = [];
    for (let marker: string | undefined, more = true; more;) {
      const page = await s3.send(new ListObjectsCommand({ Bucket: 'demo-bucket', ...(marker ? { Marker: marker } : {}) }));
      keys.push(...(page.Contents ?? []).map((object) => object.Key!));
      more = page.IsTruncated === true;
      marker = keys.at(-1);
    }
    s3.destroy();
    console.log(`the bucket holds ${keys.length} objects, named as the C s3backer names them: ${keys.slice(0, 4).join(' ')} ... ${keys.at(-1)}`);
    say('done');
  } finally {
    if (unmountExt4) await unmountExt4().catch(() => runCommand('umount', ['-l', fs]));
    if ((await mountedPaths()).has(mnt)) await runCommand('umount', ['-l', mnt]);
    if (pid && processAlive(pid)) process.kill(pid, 'SIGKILL');
    await server.stop();
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
