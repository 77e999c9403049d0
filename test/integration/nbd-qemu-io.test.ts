import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomSeed, seededRandom } from '../../plugins/chaos/seeded-random.js';
import { mustRun, runCommand } from '../helpers/run-command.js';
import { serveVolume } from '../helpers/nbd-served-volume.js';
import { skipUnlessTools } from '../helpers/nbd-tools.js';
import { sha256 } from '../helpers/file-tree.js';

const SIZE = 8 << 20;
const BLOCK = 64 << 10;

/** One qemu-io command and what it does to the oracle. */
interface Operation {
  command: string;
  apply(image: Buffer): void;
}

/**
 * Random writes anywhere (unaligned offsets, lengths from 1 byte to several blocks, so most
 * cross block boundaries), some with FUA (-f), some zeroing with NO_HOLE (write -z) or allowing
 * holes (write -z -u: the server trims), a flush now and then.
 */
function randomOperations(random: () => number, count: number): Operation[] {
  const operations: Operation[] = [];
  for (let i = 0; i < count; i++) {
    const length = 1 + Math.floor(random() ** 2 * 3 * BLOCK);
    const offset = Math.floor(random() * (SIZE - length));
    const kind = random();
    if (kind < 0.15) {
      const unmap = random() < 0.5;
      operations.push({ command: `write -z${unmap ? ' -u' : ''} ${offset} ${length}`, apply: (image) => image.fill(0, offset, offset + length) });
    } else {
      const pattern = 1 + Math.floor(random() * 255);
      const fua = random() < 0.2 ? ' -f' : '';
      operations.push({ command: `write${fua} -P 0x${pattern.toString(16)} ${offset} ${length}`, apply: (image) => image.fill(pattern, offset, offset + length) });
    }
    if (random() < 0.1) operations.push({ command: 'flush', apply: () => {} });
  }
  return operations;
}

/** `-c` arguments for qemu-io, one per command. */
const commandArgs = (commands: readonly string[]) => commands.flatMap((command) => ['-c', command]);

test('qemu-io: random unaligned writes, zeroing and FUA read back as an oracle says, through qemu-io, qemu-img and the device itself', { timeout: 60_000 }, async (t) => {
  if (skipUnlessTools(t, ['qemu-io', 'qemu-img'])) return;
  const seed = Number(process.env.NBD_TEST_SEED ?? randomSeed());
  t.diagnostic(`seed ${seed} (NBD_TEST_SEED=${seed} replays it)`);
  const random = seededRandom(seed);
  const volume = await serveVolume({ config: { size: SIZE, blockSize: BLOCK } });
  const work = await mkdtemp(join(tmpdir(), 's3b-nbd-qemu-'));
  try {
    const oracle = Buffer.alloc(SIZE);
    const operations = randomOperations(random, 60);
    for (const operation of operations) operation.apply(oracle);
    const written = await runCommand('qemu-io', ['-f', 'raw', volume.uri, ...commandArgs(operations.map((o) => o.command))], { timeoutMs: 30_000 });
    assert.equal(written.code, 0, `qemu-io writes:\n${written.stdout}${written.stderr}`);
    assert.doesNotMatch(written.stdout, /failed/i);

    // Read back with qemu-io's pattern check: every run of equal bytes the oracle has, from a
    // random start, including runs that cross block boundaries and the zeros between writes.
    const reads: string[] = [];
    for (let i = 0; i < 40; i++) {
      const start = Math.floor(random() * SIZE);
      let end = start + 1;
      while (end < SIZE && end - start < 3 * BLOCK && oracle[end] === oracle[start]) end++;
      reads.push(`read -P 0x${oracle[start]!.toString(16)} ${start} ${end - start}`);
    }
    const read = await runCommand('qemu-io', ['-f', 'raw', volume.uri, ...commandArgs(reads)], { timeoutMs: 30_000 });
    assert.equal(read.code, 0, `qemu-io reads:\n${read.stdout}${read.stderr}`);
    assert.doesNotMatch(read.stdout, /Pattern verification failed/);

    // The whole disk, read by qemu-img with its own request sizes, is the oracle.
    const copy = join(work, 'copy.img');
    await mustRun('qemu-img', ['convert', '-f', 'raw', '-O', 'raw', volume.uri, copy], { timeoutMs: 30_000 });
    assert.equal(sha256(await readFile(copy)), sha256(oracle), 'qemu-img convert of the export matches the oracle');
    // And so is the device, read in-process: what the server stored is what the client wrote.
    assert.ok((await volume.device.read(0, SIZE)).equals(oracle), 'the device holds what the oracle says');
    assert.deepEqual(volume.logLines.filter((line) => /^(ERROR|WARN)/.test(line)), []);
  } finally {
    await volume.stop();
    await rm(work, { recursive: true, force: true });
  }
});
