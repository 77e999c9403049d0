import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile, readFile, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { startS3rver, s3rverFlags, type S3rverServer } from '../helpers/s3rver-server.js';
import { putFixtureObjects, s3rverClient } from '../helpers/s3rver-client.js';
import { S3backerProcess, S3BACKER_BIN, runS3backer, processAlive } from '../helpers/s3backer-process.js';
import { skipUnlessFuse, fuseUnavailableReason } from '../helpers/fuse-support.js';
import { runOnTerminal } from '../helpers/pty-run.js';
import { runCommand } from '../helpers/run-command.js';
import { mountedPaths } from '../../src/frontends/fuse/mount-table.js';
import { loadFixtureCases, fixturePlaintext, type FixtureCase } from '../helpers/c-fixtures.js';

/** The encryption flags as a user meets them: the prompt, background mode, a wrong password, bucket/subdir. */
const cases = loadFixtureCases();
const encrypted = cases.find((c) => c.name === 'encrypt')!;
const withPrefix = cases.find((c) => c.name === 'encrypt-prefix')!;
const PASSWORD = encrypted.password!;

let server: S3rverServer | undefined;
let client: S3Client | undefined;
let work: string;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 's3backer-enc-'));
  if (fuseUnavailableReason()) return;
  server = await startS3rver({ buckets: [encrypted.bucket, withPrefix.bucket] });
  client = s3rverClient(server);
  for (const fixture of [encrypted, withPrefix]) await putFixtureObjects(client, fixture);
});
after(async () => {
  client?.destroy();
  await server?.stop();
  await rm(work, { recursive: true, force: true });
});

const s3 = () => s3rverFlags(server!);
async function mountPoint(name: string): Promise<string> {
  const path = join(work, name);
  await mkdir(path, { recursive: true });
  return path;
}
async function listing(bucket: string): Promise<string[]> {
  return ((await client!.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => `${o.Key} ${o.ETag}`).sort();
}
async function readBlock(mnt: string, fixture: FixtureCase, block: number): Promise<Buffer> {
  const disk = await open(join(mnt, 'file'), 'r');
  try {
    const data = Buffer.alloc(fixture.blockSize);
    await disk.read(data, 0, data.length, block * fixture.blockSize);
    return data;
  } finally {
    await disk.close();
  }
}

test('a wrong password on a C-written volume is refused at mount: exit 1, S3B_WRONG_PASSWORD, the bucket unchanged', { timeout: 60_000 }, async (t) => {
  if (skipUnlessFuse(t)) return;
  const mnt = await mountPoint('wrong');
  const passwordFile = join(work, 'wrong-password');
  await writeFile(passwordFile, 'battery-staple\n');
  const before = await listing(encrypted.bucket);
  const result = await runS3backer(['-f', ...s3(), '--encrypt', `--passwordFile=${passwordFile}`, encrypted.bucket, mnt], { timeoutMs: 30_000 });
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /password does not match.*\[S3B_WRONG_PASSWORD\]/s);
  assert.deepEqual(await listing(encrypted.bucket), before, 'no block, key check or mounted flag was written');
  assert.ok(!(await mountedPaths()).has(mnt));
});

test('--encrypt with no password asks on the terminal without echo, then serves from the background; the password reaches no argv or environment', { timeout: 90_000 }, async (t) => {
  if (skipUnlessFuse(t)) return;
  const mnt = await mountPoint('prompt');
  const result = await runOnTerminal([S3BACKER_BIN, ...s3(), '--encrypt', encrypted.bucket, mnt], 'Password: ', PASSWORD);
  const daemon = Number(/s3backer process (\d+) for /.exec(result.stdout)?.[1]);
  try {
    assert.equal(result.code, 0, result.stdout);
    assert.match(result.stdout, /^Password: /m);
    assert.ok(!result.stdout.includes(PASSWORD), 'the typed password is not echoed');
    assert.ok(daemon > 0 && processAlive(daemon), `a background process serves the mount: ${result.stdout}`);
    for (const file of ['cmdline', 'environ']) {
      assert.ok(!(await readFile(`/proc/${daemon}/${file}`)).includes(PASSWORD), `not in the background process's ${file}`);
    }
    for (const write of encrypted.writes) {
      assert.ok((await readBlock(mnt, encrypted, write.block)).equals(fixturePlaintext(write.kind, write.block, encrypted.blockSize)), `block ${write.block}`);
    }
  } finally {
    if ((await mountedPaths()).has(mnt)) await runCommand('umount', [mnt]);
    for (let waited = 0; daemon > 0 && processAlive(daemon) && waited < 30_000; waited += 100) await new Promise((resolve) => setTimeout(resolve, 100));
    if (daemon > 0 && processAlive(daemon)) {
      process.kill(daemon, 'SIGKILL');
      await runCommand('umount', ['-l', mnt]);
      assert.fail('the background process did not exit after umount');
    }
  }
  assert.ok((await listing(encrypted.bucket)).some((line) => line.startsWith('s3backer-keycheck ')), 'the right password recorded the key check');
});

test('bucket/subdir with encryption: the C tool\'s salt is "bucket/subdir/", so its --prefix volume mounts as bucket/subdir', { timeout: 60_000 }, async (t) => {
  if (skipUnlessFuse(t)) return;
  const mnt = await mountPoint('subdir');
  const proc = await S3backerProcess.start(mnt, [...s3(), '--encrypt', `--password=${PASSWORD}`, '--readOnly', `${withPrefix.bucket}/${withPrefix.prefix.replace(/\/$/, '')}`]);
  try {
    for (const write of withPrefix.writes) {
      assert.ok((await readBlock(mnt, withPrefix, write.block)).equals(fixturePlaintext(write.kind, write.block, withPrefix.blockSize)), `block ${write.block}`);
    }
  } finally {
    assert.equal(await proc.unmount(), 0, proc.output);
    await proc.kill();
  }
});
