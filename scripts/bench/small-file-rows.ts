// Small files on ext4 over the disk file (loop device, direct I/O; mounted noatime,discard), four
// rows in files/s, no ceiling (nothing measures what these could be without s3backer):
//   copy   `cp -r` of 2,000 files of 0.5–16 KiB, then `sync -f`
//   untar  `tar -xf` of a ~6,000-file tree, then `sync -f`
//   read   every file read back cold (`find | xargs cat`), after everything is remounted
//   rm     `rm -rf` of both, then `sync -f` twice: with `discard`, ext4 hands the freed blocks
//          to s3backer as punched holes (loop → fallocate), so whole freed blocks become DELETEs;
//          it does so only once the transaction that freed them has committed, after the first
//          sync's flush, so the second sync is what brings those DELETEs into the step
// The inputs (small-file-sets.ts) are the same in every run, so the rows compare across runs.
import { formatSize, MiB } from './bench-options.js';
import { BenchVolume } from './bench-volume.js';
import { fileDataBlocks } from './file-data-blocks.js';
import type { RowProducer } from './row-producer.js';
import { mustRunTracked } from './run-tracked.js';
import { VolumeExt4 } from './volume-ext4.js';
import { join } from 'node:path';

const timed = async (commands: Array<[string, string[]]>): Promise<{ seconds: number; stdout: string }> => {
  let seconds = 0;
  let stdout = '';
  for (const [command, args] of commands) {
    const result = await mustRunTracked(command, args);
    seconds += result.seconds;
    stdout += result.stdout;
  }
  return { seconds, stdout };
};

export const smallFileRows: RowProducer = {
  id: 'files',
  describe: 'small files on ext4: copy 2,000 in, untar ~6,000, read all back cold, rm -rf (each + sync)',
  stores: ['server', 'memory'],
  rows: ['files-copy', 'files-untar', 'files-read', 'files-rm'],
  byDefault: true,
  needs: { smallFiles: true, loop: true },
  async run(rc) {
    const sets = rc.bench.smallFiles!;
    const files = sets.copyFiles + sets.treeFiles;
    const bytes = sets.copyBytes + sets.treeBytes;
    // Four times the data, plus room for the journal: ext4 rounds every file up to 4 KiB.
    const size = Math.ceil(Math.max(rc.bench.options.total, 4 * bytes + 64 * MiB) / rc.blockSize) * rc.blockSize;
    const volume = await BenchVolume.open(rc, { name: 'files', size });
    let ext4: VolumeExt4 | undefined;
    try {
      ext4 = await VolumeExt4.create(volume, { inodes: 2 * (files + sets.directories) + 1024, mountOptions: 'noatime,discard' });
      const fs = ext4.dir;
      const notes = [`loop device direct I/O ${ext4.directIO ? 'on' : 'off'}`, `${files} files, ${(bytes / MiB).toFixed(1)} MiB in all; volume ${size / MiB} MiB`];
      const writeStep = async (workload: string, title: string, count: number, commands: Array<[string, string[]]>, extra: Record<string, number>) => {
        const before = await volume.snapshot();
        const phase = await volume.measure(title, 'files/s', async () => {
          const { seconds } = await timed(commands);
          return { value: count / seconds, seconds };
        });
        volume.addRow(phase, {
          workload, title, unit: 'files/s', requests: { kind: 'write', touched: await volume.writtenSince(before) },
          details: { files: count, ...extra }, notes,
        });
      };
      await writeStep('files-copy', `files: cp -r ${sets.copyFiles} small files + sync -f`, sets.copyFiles,
        [['cp', ['-r', sets.copyDir, join(fs, 'copy')]], ['sync', ['-f', fs]]], { bytes: sets.copyBytes });
      await writeStep('files-untar', `files: tar -x ${sets.treeFiles}-file tree + sync -f`, sets.treeFiles,
        [['tar', ['-xf', sets.tarPath, '-C', fs]], ['sync', ['-f', fs]]], { bytes: sets.treeBytes });

      const dataBlocks = await fileDataBlocks(fs, rc.blockSize);
      await ext4.remountCold();
      let readBytes = NaN;
      const read = await volume.measure(`files: cold read of all ${files} files (find | xargs cat)`, 'files/s', async () => {
        const { seconds, stdout } = await timed([['sh', ['-c', 'find "$1" -type f -print0 | xargs -0 cat | wc -c', 'sh', fs]]]);
        readBytes = Number(stdout.trim());
        return { value: files / seconds, seconds };
      });
      if (readBytes !== bytes) throw new Error(`the cold read returned ${readBytes} bytes, the files hold ${bytes}`);
      volume.addRow(read, {
        workload: 'files-read', title: 'files: cold read of every file', unit: 'files/s',
        requests: { kind: 'read', touched: { blocks: dataBlocks, exact: false, how: `blocks holding the files' data (filefrag, ${formatSize(rc.blockSize)} blocks); inode tables and directories read too are not counted` } },
        details: { files, bytes }, notes: [...notes, `cold: ${volume.coldMeans}`],
      });
      await writeStep('files-rm', `files: rm -rf all ${files} files + sync -f`, files,
        [['rm', ['-rf', join(fs, 'copy'), join(fs, 'tree')]], ['sync', ['-f', fs]], ['sync', ['-f', fs]]], {});
    } finally {
      await ext4?.release();
      await volume.close();
      await volume.drop();
    }
  },
};
