// fio 4 KiB random read, then random write, at queue depth 16 for --fio-seconds each, on the disk
// file directly with O_DIRECT (fio-run.ts picks the engine). On the disk file rather than a file
// in ext4: one 4 KiB request is one FUSE request and touches exactly one block, so IOPS are
// s3backer's own random-I/O cost and fio's I/O log gives the exact blocks touched, where ext4
// would add its journal, its metadata and the loop device's queue (the ext4 rows cover those).
// The volume is filled first (not measured; on a server then remounted cold), so reads fetch
// real blocks and writes patch them (a read-modify-write per block not cached).
//   server: no ceiling (nothing without s3backer does 4 KiB random I/O on S3 blocks)
//   memory: the same fio job on the bare fuse-native file; target 0.70 (4 KiB direct I/O)
import { cacheBlocks, formatSize, MiB } from './bench-options.js';
import { BenchVolume, type RowSpec } from './bench-volume.js';
import { blocksInIolog, runFio, FIO_DEPTH, type FioRun } from './fio-run.js';
import type { RowProducer } from './row-producer.js';
import { step } from './progress.js';
import { timedDd } from './timed-dd.js';
import { DD_BS } from './dd-rows.js';
import { join } from 'node:path';
import { rm } from 'node:fs/promises';

export const FIO_MEMORY_TARGET = 0.7;

export const fioRows: RowProducer = {
  id: 'fio',
  describe: `fio 4 KiB random read and write, queue depth ${FIO_DEPTH}, O_DIRECT on the disk file, for a fixed time`,
  stores: ['server', 'memory'],
  rows: ['fio-randread', 'fio-randwrite'],
  byDefault: true,
  needs: { fio: true, bareFuseRandom: true },
  async run(rc) {
    const { total, fioSeconds } = rc.bench.options;
    const engine = rc.bench.fioEngine!;
    const server = rc.store === 'server';
    const volume = await BenchVolume.open(rc, { name: 'fio', size: total, directIO: !server });
    try {
      await step(`${volume.prefix}: fill the fio volume with dd (${total / MiB} MiB, not measured)`,
        () => timedDd([`if=${rc.bench.source}`, `of=${volume.diskFile}`, 'conv=notrunc,fdatasync'], DD_BS, total), (r) => `${r.mbps.toFixed(1)} MB/s`);
      await volume.goCold();
      const cache = cacheBlocks(rc.bench.options, rc.blockSize);
      const random = async (rw: 'randread' | 'randwrite'): Promise<{ run: FioRun; touched: number | undefined }> => {
        const iologPath = join(rc.bench.work, `fio-${rc.storeName}-${rc.blockSize}-${rw}.iolog`);
        let run: FioRun | undefined;
        const phase = await volume.measure(`fio ${rw} 4k x${FIO_DEPTH} (${engine.name}) ${fioSeconds} s on the disk file`, 'IOPS', async () => {
          run = await runFio({ file: volume.diskFile, rw, size: total, seconds: fioSeconds, engine, iologPath });
          return { value: run.iops, seconds: run.seconds };
        });
        const touched = run!.iologPath ? await blocksInIolog(run!.iologPath, rc.blockSize) : undefined;
        await rm(iologPath, { force: true });
        const touchedCheck = touched === undefined ? undefined
          : { blocks: touched, exact: true, how: `distinct ${formatSize(rc.blockSize)} blocks in fio's I/O log` };
        const notes = [`fio ${engine.name}, ${engine.args.join(' ')}, direct=1, on the disk file (no file system)`];
        if (touched !== undefined && touched > cache) notes.push(`the block cache holds ${cache} of the ${touched} blocks touched: blocks evicted and touched again are fetched again, so more GETs than blocks touched are expected`);
        const spec: RowSpec = {
          workload: rw === 'randread' ? 'fio-randread' : 'fio-randwrite', title: `fio ${rw} 4k x${FIO_DEPTH}`, unit: 'IOPS',
          ...(server ? {} : { ceiling: rw === 'randread' ? rc.ceilings.bareRandRead : rc.ceilings.bareRandWrite, target: FIO_MEMORY_TARGET }),
          requests: rw === 'randread'
            ? { kind: 'read', touched: touchedCheck && touched! > cache ? { ...touchedCheck, exact: false } : touchedCheck }
            : { kind: 'random-write', touched: touchedCheck && touched! > cache ? { ...touchedCheck, exact: false } : touchedCheck, writesIssued: run!.ios },
          details: { engine: engine.name, ios: run!.ios, meanLatencyUs: run!.meanLatencyUs, seconds: fioSeconds, cacheBlocks: cache, ...(touched === undefined ? {} : { blocksTouched: touched }) },
          notes,
        };
        volume.addRow(phase, spec);
        return { run: run!, touched };
      };
      await random('randread');
      await random('randwrite');
    } finally {
      await volume.close();
      await volume.drop();
    }
  },
};
