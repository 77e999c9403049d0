import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startS3rver, s3rverFlags } from '../helpers/s3rver-server.js';
import { S3backerProcess } from '../helpers/s3backer-process.js';
import { skipUnlessFuse } from '../helpers/fuse-support.js';
import { mustRun } from '../helpers/run-command.js';

const MiB = 1 << 20;

async function peakRssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmHWM:\s+(\d+) kB/m.exec(status)![1]) / 1024;
}

test('back-pressure: copying 12x the cache through the mount keeps peak RSS under cache + 150 MiB, and it does not grow with the copy', { timeout: 180_000 }, async (t) => {
  if (skipUnlessFuse(t)) return;
  const server = await startS3rver({ buckets: ['disk'] });
  const work = await mkdtemp(join(tmpdir(), 's3backer-rss-'));
  const mnt = join(work, 'mnt');
  await mkdir(mnt);
  // The source lives in tmpfs, read by dd: it costs the s3backer process nothing.
  const source = join('/dev/shm', `s3backer-rss-${process.pid}`);
  const cacheBlocks = 16;
  let proc: S3backerProcess | undefined;
  try {
    await writeFile(source, randomBytes(32 * MiB));
    proc = await S3backerProcess.start(mnt, [
      ...s3rverFlags(server),
      '--size=1g', '--blockSize=1m', `--blockCacheSize=${cacheBlocks}`, 'disk',
    ]);
    const copy = async (chunks: number, from: number) => {
      for (let i = 0; i < chunks; i++) {
        await mustRun('dd', [`if=${source}`, `of=${join(mnt, 'file')}`, 'bs=1M', `seek=${from + i * 32}`, 'conv=notrunc,fdatasync', 'status=none'], { timeoutMs: 120_000 });
      }
    };
    await copy(1, 0);
    const afterFirst = await peakRssMiB(proc.child.pid!);
    await copy(5, 32);
    const afterAll = await peakRssMiB(proc.child.pid!);
    const stats = await readFile(join(mnt, 'stats'), 'utf8');
    t.diagnostic(`peak RSS ${afterFirst.toFixed(0)} MiB after 32 MiB, ${afterAll.toFixed(0)} MiB after 192 MiB (cache ${cacheBlocks} MiB)`);
    assert.ok(afterAll <= cacheBlocks + 150, `peak RSS ${afterAll.toFixed(0)} MiB exceeds the cache (${cacheBlocks} MiB) + 150 MiB`);
    assert.ok(afterAll - afterFirst < 48, `peak RSS grew by ${(afterAll - afterFirst).toFixed(0)} MiB while copying 160 MiB more: memory is not bounded by the cache`);
    assert.match(stats, new RegExp(`^block_cache_current_size +([0-9]|1[0-6]) blocks$`, 'm'), 'the cache never holds more than its size');
    assert.equal(await proc.unmount(), 0, proc.output);
  } finally {
    await proc?.kill();
    await server.stop();
    await rm(source, { force: true });
    await rm(work, { recursive: true, force: true });
  }
});
