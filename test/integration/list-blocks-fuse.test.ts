import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startS3rver, s3rverFlags, type S3rverServer } from '../helpers/s3rver-server.js';
import { S3backerProcess } from '../helpers/s3backer-process.js';
import { skipUnlessFuse, fuseUnavailableReason } from '../helpers/fuse-support.js';
import { runCommand } from '../helpers/run-command.js';

/** `--listBlocks` as a user meets it: mkfs's discard of a fresh volume costs no DELETE once the survey knows nothing exists. */
let server: S3rverServer | undefined;
let work: string;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 's3backer-lb-'));
  if (!fuseUnavailableReason()) server = await startS3rver({ buckets: ['fresh', 'plain'] });
});
after(async () => {
  await server?.stop();
  await rm(work, { recursive: true, force: true });
});

const stat = (text: string, name: string) => /^(\S+)\s+(.*)$/m.exec(text.split('\n').find((line) => line.startsWith(name + ' ')) ?? '')?.[2];

async function mkfsDeletes(bucket: string, extra: string[]): Promise<number> {
  const mnt = join(work, bucket);
  await mkdir(mnt, { recursive: true });
  const proc = await S3backerProcess.start(mnt, [...s3rverFlags(server!),
    '--size=64m', '--blockSize=64k', ...extra, bucket]);
  try {
    if (extra.includes('--listBlocks')) {
      for (let waited = 0; stat(await readFile(join(mnt, 'stats'), 'utf8'), 'zero_block_survey') !== 'completed'; waited += 50) {
        assert.ok(waited < 20_000, 'the survey completes');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    await runCommand('mkfs.ext4', ['-q', '-F', '-E', 'discard', join(mnt, 'file')]);
    return Number(stat(await readFile(join(mnt, 'stats'), 'utf8'), 'http_deletes'));
  } finally {
    assert.equal(await proc.unmount(), 0, proc.output);
    await proc.kill();
  }
}

test('--listBlocks: mkfs.ext4 discarding a fresh volume sends no DELETE (without the survey, one per block)', { timeout: 120_000 }, async (t) => {
  if (skipUnlessFuse(t)) return;
  const without = await mkfsDeletes('plain', []);
  const withSurvey = await mkfsDeletes('fresh', ['--listBlocks']);
  t.diagnostic(`DELETEs during mkfs.ext4 -E discard of 64 MiB: ${without} without --listBlocks, ${withSurvey} with it`);
  assert.ok(without > 100, `without the survey the discard reaches the store (${without} DELETEs)`);
  assert.equal(withSurvey, 0);
});
