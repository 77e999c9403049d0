// ext4 on the disk file (loop device, direct I/O): one --mib file (256 MiB) copied in with `cp` and
// `sync -f` (time of both), then read back cold with `dd bs=1M` after everything is remounted.
// Ceilings: on a server, raw HTTP PUT / GET (target 0.90, as for dd: the file is one sequential
// stream under ext4); on the memory store, the bare FUSE 128 KiB write / read, ratio only (the
// memory target is defined for dd's 128 KiB requests).
import { MiB } from './bench-options.js';
import { BenchVolume } from './bench-volume.js';
import { DD_BS, S3_TARGET } from './dd-rows.js';
import { fileDataBlocks } from './file-data-blocks.js';
import type { RowProducer } from './row-producer.js';
import { mustRunTracked } from './run-tracked.js';
import { timedDd } from './timed-dd.js';
import { VolumeExt4 } from './volume-ext4.js';
import { join } from 'node:path';

export const ext4FileRows: RowProducer = {
  id: 'ext4',
  describe: 'ext4 on a loop device (direct I/O) over the disk file: cp a big file in + sync -f, read it back cold',
  stores: ['server', 'memory'],
  rows: ['ext4-write', 'ext4-read'],
  byDefault: true,
  needs: { rawHttp: true, bareFuse: true, loop: true },
  async run(rc) {
    const { total } = rc.bench.options;
    const server = rc.store === 'server';
    // Room for the file plus ext4's journal and tables.
    const size = Math.ceil((total * 1.25 + 32 * MiB) / rc.blockSize) * rc.blockSize;
    const volume = await BenchVolume.open(rc, { name: 'ext4', size });
    let ext4: VolumeExt4 | undefined;
    try {
      ext4 = await VolumeExt4.create(volume);
      const file = join(ext4.dir, 'file');
      const before = await volume.snapshot();
      const write = await volume.measure(`ext4 cp ${total / MiB} MiB file + sync -f`, 'MB/s', async () => {
        const cp = await mustRunTracked('cp', [rc.bench.source, file]);
        const sync = await mustRunTracked('sync', ['-f', file]);
        const seconds = cp.seconds + sync.seconds;
        return { value: total / seconds / 1e6, seconds };
      });
      const notes = [`loop device direct I/O ${ext4.directIO ? 'on' : 'off'}`];
      volume.addRow(write, {
        workload: 'ext4-write', title: 'ext4 cp big file + sync -f', unit: 'MB/s',
        ceiling: server ? rc.ceilings.rawPut : rc.ceilings.bareWrite, ...(server ? { target: S3_TARGET } : {}),
        requests: { kind: 'write', touched: await volume.writtenSince(before) },
        details: { bytes: total }, notes,
      });
      const dataBlocks = await fileDataBlocks(ext4.dir, rc.blockSize);
      await ext4.remountCold();
      const read = await volume.measure(`ext4 cold read ${total / MiB} MiB bs=1M`, 'MB/s', async () => {
        const { mbps, seconds } = await timedDd([`if=${file}`, 'of=/dev/null'], DD_BS, total);
        return { value: mbps, seconds };
      });
      volume.addRow(read, {
        workload: 'ext4-read', title: 'ext4 cold read bs=1M', unit: 'MB/s',
        ceiling: server ? rc.ceilings.rawGet : rc.ceilings.bareRead, ...(server ? { target: S3_TARGET } : {}),
        requests: { kind: 'read', touched: { blocks: dataBlocks, exact: false, how: 'blocks holding the file\'s data (filefrag); ext4 metadata read too is not counted' } },
        details: { bytes: total },
        notes: [...notes, `cold: ${volume.coldMeans}`],
      });
    } finally {
      await ext4?.release();
      await volume.close();
      await volume.drop();
    }
  },
};
