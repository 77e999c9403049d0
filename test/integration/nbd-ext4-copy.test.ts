import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mustRun, runCommand } from '../helpers/run-command.js';
import { serveVolume } from '../helpers/nbd-served-volume.js';
import { skipUnlessTools } from '../helpers/nbd-tools.js';
import { sha256, writeTree } from '../helpers/file-tree.js';

const SIZE = 64 << 20;
const BLOCK = 64 << 10;

test('an ext4 image copied in with nbdcopy, the export stopped and served again from the same store, copies out byte-identical and fsck-clean', { timeout: 60_000 }, async (t) => {
  if (skipUnlessTools(t, ['nbdcopy', 'mkfs.ext4', 'e2fsck'])) return;
  const work = await mkdtemp(join(tmpdir(), 's3b-nbd-ext4-'));
  try {
    // A populated file system without root: mkfs.ext4 -d copies a directory tree into the image.
    const tree = join(work, 'tree');
    await writeTree(tree, 12);
    const image = join(work, 'in.img');
    await mustRun('truncate', ['-s', String(SIZE), image]);
    await mustRun('mkfs.ext4', ['-q', '-F', '-d', tree, image]);
    const imageSum = sha256(await readFile(image));

    // The dir store keeps the volume on disk, so a second engine (a new process would do the same) finds it.
    const store = join(work, 'store');
    await mkdir(store);
    const config = { store: 'dir', bucket: store, size: SIZE, blockSize: BLOCK };

    const first = await serveVolume({ config });
    try {
      const started = Date.now();
      await mustRun('nbdcopy', ['--flush', image, first.uri], { timeoutMs: 30_000 });
      t.diagnostic(`nbdcopy in: ${SIZE >> 20} MiB in ${Date.now() - started} ms`);
    } finally {
      await first.stop();
    }

    const second = await serveVolume({ config });
    const copy = join(work, 'out.img');
    try {
      const started = Date.now();
      await mustRun('nbdcopy', [second.uri, copy], { timeoutMs: 30_000 });
      t.diagnostic(`nbdcopy out: ${SIZE >> 20} MiB in ${Date.now() - started} ms`);
    } finally {
      await second.stop();
    }
    const fsck = await runCommand('e2fsck', ['-fn', copy]);
    assert.equal(fsck.code, 0, `e2fsck of the copy:\n${fsck.stdout}${fsck.stderr}`);
    assert.equal(sha256(await readFile(copy)), imageSum, 'the copy is byte-identical to the image');
    for (const line of [...first.logLines, ...second.logLines]) assert.doesNotMatch(line, /^(ERROR|WARN)/);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});
