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

async function statusMiB(pid: number, field: 'VmHWM' | 'VmRSS'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)![1]) / 1024;
}
const peakRssMiB = (pid: number) => statusMiB(pid, 'VmHWM');

/**
 * What the copy may add to the process's size at mount: the cache, plus buffers in flight (FUSE
 * requests, uploads) and garbage not yet collected. Measured from the process's own size at mount,
 * because that differs by Node release (Node 22 and 24 start about 8 MiB larger than Node 20 and
 * keep more garbage under load); the benchmark reports the absolute peak against cache + 150 MiB.
 */
const HEADROOM_MIB = 96;

test('back-pressure: copying 20x the cache through the mount adds at most the cache + 96 MiB to the process, and it does not grow with the copy', { timeout: 180_000 }, async (t) => {
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
    const atMount = await statusMiB(proc.child.pid!, 'VmRSS');
    // Warm-up: V8 sizes its heap to the load in the first tens of MiB; after that a bounded
    // process stops growing, so the second half of the copy must add (almost) nothing to the peak.
    await copy(2, 0);
    const afterFirst = await peakRssMiB(proc.child.pid!);
    await copy(4, 64);
    const afterMiddle = await peakRssMiB(proc.child.pid!);
    await copy(4, 192);
    const afterAll = await peakRssMiB(proc.child.pid!);
    const stats = await readFile(join(mnt, 'stats'), 'utf8');
    t.diagnostic(`RSS ${atMount.toFixed(0)} MiB at mount; peak ${afterFirst.toFixed(0)} MiB after 64 MiB, ${afterMiddle.toFixed(0)} after 192 MiB, ${afterAll.toFixed(0)} MiB after 320 MiB (cache ${cacheBlocks} MiB, Node ${process.versions.node})`);
    assert.ok(afterAll - atMount <= cacheBlocks + HEADROOM_MIB,
      `peak RSS ${afterAll.toFixed(0)} MiB is ${(afterAll - atMount).toFixed(0)} MiB above the ${atMount.toFixed(0)} MiB at mount: more than the cache (${cacheBlocks} MiB) + ${HEADROOM_MIB} MiB`);
    assert.ok(afterAll - afterMiddle < 32, `peak RSS grew by ${(afterAll - afterMiddle).toFixed(0)} MiB while copying the last 128 MiB: memory is not bounded by the cache`);
    assert.match(stats, new RegExp(`^block_cache_current_size +([0-9]|1[0-6]) blocks$`, 'm'), 'the cache never holds more than its size');
    assert.equal(await proc.unmount(), 0, proc.output);
  } finally {
    await proc?.kill();
    await server.stop();
    await rm(source, { force: true });
    await rm(work, { recursive: true, force: true });
  }
});
