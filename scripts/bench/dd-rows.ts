// dd on the disk file, sequential, --mib long (256 MiB by default).
//   server: `dd bs=1M` buffered write + conv=fdatasync (the time includes the flush: every block in
//           S3), then a cold read from a new process on a new mount — the path users get.
//           Ceilings: raw HTTP PUT / GET of block-sized objects, 32 in flight; target 0.90.
//   memory: `dd bs=128k` on a --directIO mount, write + fsync then read: one 128 KiB FUSE request
//           in flight, the engine's per-request cost. Ceiling: the bare fuse-native file with the
//           same request size and direct_io; target 0.80. (The memory store lives in the
//           process, so its read cannot be cold; with direct I/O there is no page cache either.)
import { formatSize, MiB } from './bench-options.js';
import { BenchVolume } from './bench-volume.js';
import { FUSE_REQUEST } from './bare-fuse-ceiling.js';
import type { RowProducer } from './row-producer.js';
import { timedDd } from './timed-dd.js';

/** dd request size for the buffered workloads: the kernel splits it into 128 KiB FUSE requests and overlaps them. */
export const DD_BS = MiB;
export const S3_TARGET = 0.9;
export const MEMORY_TARGET = 0.8;

const dd = async (operands: string[], bs: number, total: number) => {
  const { mbps, seconds } = await timedDd(operands, bs, total);
  return { value: mbps, seconds };
};

export const ddRows: RowProducer = {
  id: 'dd',
  describe: 'dd on the disk file: sequential write (+fdatasync/fsync) and read back (cold on a server)',
  stores: ['server', 'memory'],
  rows: ['dd-write', 'dd-read'],
  byDefault: true,
  needs: { rawHttp: true, bareFuse: true },
  async run(rc) {
    const { total } = rc.bench.options;
    const source = rc.bench.source;
    const server = rc.store === 'server';
    const volume = await BenchVolume.open(rc, { name: 'dd', size: total, directIO: !server });
    try {
      const bs = server ? DD_BS : FUSE_REQUEST;
      const bsText = bs === MiB ? '1M' : `${bs / 1024}k`;
      const before = await volume.snapshot();
      const writeTitle = server ? `dd write bs=${bsText} buffered +fdatasync` : `dd write bs=${bsText} --directIO +fsync`;
      const write = await volume.measure(`${writeTitle} ${total / MiB} MiB`, 'MB/s',
        () => dd([`if=${source}`, `of=${volume.diskFile}`, `conv=notrunc,${server ? 'fdatasync' : 'fsync'}`], bs, total));
      volume.addRow(write, {
        workload: 'dd-write', title: writeTitle, unit: 'MB/s',
        ceiling: server ? rc.ceilings.rawPut : rc.ceilings.bareWrite, target: server ? S3_TARGET : MEMORY_TARGET,
        requests: { kind: 'write', touched: await volume.writtenSince(before) },
        details: { bytes: total, requestSize: bs },
      });
      const cold = await volume.goCold();
      const readTitle = server ? `dd cold read bs=${bsText} buffered` : `dd read bs=${bsText} --directIO`;
      const read = await volume.measure(`${readTitle} ${total / MiB} MiB`, 'MB/s', () => dd([`if=${volume.diskFile}`, 'of=/dev/null'], bs, total));
      volume.addRow(read, {
        workload: 'dd-read', title: readTitle, unit: 'MB/s',
        ceiling: server ? rc.ceilings.rawGet : rc.ceilings.bareRead, target: server ? S3_TARGET : MEMORY_TARGET,
        requests: { kind: 'read', touched: { blocks: total / rc.blockSize, exact: true, how: `the whole disk file: ${total / MiB} MiB of ${formatSize(rc.blockSize)} blocks` } },
        details: { bytes: total, requestSize: bs },
        notes: cold ? [] : ['not cold: the memory store is in the s3backer process; direct I/O, so no page cache'],
      });
    } finally {
      await volume.close();
      await volume.drop();
    }
  },
};
