// The same disk as an NBD export (--nbd-listen on a Unix socket), driven by nbdcopy (libnbd-bin)
// with 1 MiB requests, --mib long:
//   server: nbdcopy of the random source into the export, with --flush (the time includes the
//           flush: every block in S3), then a cold read into null: from a new s3backer process.
//           Ceilings: raw HTTP PUT / GET (32 in flight), as for the FUSE dd rows; target 0.90.
//   memory: write then read in one process (the memory store lives in it). Compared with the FUSE
//           dd rows of the same run and block size (`vs FUSE` in the notes: the issue asks NBD to
//           beat FUSE by 1.5x on sequential reads); the ratio column is to the bare FUSE ceiling.
import { existsSync } from 'node:fs';
import { MiB } from './bench-options.js';
import { BenchVolume } from './bench-volume.js';
import type { RowProducer } from './row-producer.js';
import { mustRunTracked } from './run-tracked.js';
import { S3_TARGET } from './dd-rows.js';

const REQUEST = MiB;
/** nbdcopy's requests in flight (its default is 64 per connection; one connection keeps the run comparable to dd's one stream). */
const IN_FLIGHT = 16;

async function nbdcopy(from: string, to: string, bytes: number, flush: boolean): Promise<{ value: number; seconds: number }> {
  const { seconds } = await mustRunTracked('nbdcopy', ['--connections=1', `--requests=${IN_FLIGHT}`, `--request-size=${REQUEST}`, ...(flush ? ['--flush'] : []), from, to]);
  return { value: bytes / seconds / 1e6, seconds };
}

export const nbdRows: RowProducer = {
  id: 'nbd',
  describe: 'the disk as an NBD export: nbdcopy sequential write (+flush) and read back (cold on a server), 1 MiB requests',
  stores: ['server', 'memory'],
  rows: ['nbd-write', 'nbd-read'],
  byDefault: true,
  needs: { rawHttp: true, bareFuse: true },
  async run(rc) {
    if (!existsSync('/usr/bin/nbdcopy')) throw new Error('nbdcopy is not installed (apt-get install libnbd-bin); run with --only=dd,ext4,files,fio to skip the NBD rows');
    const { total } = rc.bench.options;
    const server = rc.store === 'server';
    const volume = await BenchVolume.open(rc, { name: 'nbd', size: total, nbd: true });
    const fuse = (workload: string) => rc.bench.rows.find((row) => row.store === rc.storeName && row.blockSize === rc.blockSize && row.workload === workload);
    const versusFuse = (value: number, workload: string) => {
      const row = fuse(workload);
      return row ? [`${(value / row.value).toFixed(2)}x the FUSE ${workload} row of this run (${row.value.toFixed(0)} ${row.unit}, ${row.title})`] : [];
    };
    try {
      const before = await volume.snapshot();
      const write = await volume.measure(`nbdcopy write --request-size=1M --flush ${total / MiB} MiB`, 'MB/s',
        () => nbdcopy(rc.bench.source, volume.diskFile, total, true));
      volume.addRow(write, {
        workload: 'nbd-write', title: 'nbdcopy write 1M requests +flush', unit: 'MB/s',
        ceiling: server ? rc.ceilings.rawPut : rc.ceilings.bareWrite, ...(server ? { target: S3_TARGET } : {}),
        requests: { kind: 'write', touched: await volume.writtenSince(before) },
        details: { bytes: total, requestSize: REQUEST, inFlight: IN_FLIGHT },
        notes: versusFuse(write.value, 'dd-write'),
      });
      const cold = await volume.goCold();
      const read = await volume.measure(`nbdcopy ${cold ? 'cold ' : ''}read --request-size=1M ${total / MiB} MiB`, 'MB/s',
        () => nbdcopy(volume.diskFile, 'null:', total, false));
      volume.addRow(read, {
        workload: 'nbd-read', title: `nbdcopy ${cold ? 'cold ' : ''}read 1M requests`, unit: 'MB/s',
        ceiling: server ? rc.ceilings.rawGet : rc.ceilings.bareRead, ...(server ? { target: S3_TARGET } : {}),
        requests: { kind: 'read', touched: { blocks: total / rc.blockSize, exact: true, how: `the whole export: ${total / MiB} MiB` } },
        details: { bytes: total, requestSize: REQUEST, inFlight: IN_FLIGHT },
        notes: [...versusFuse(read.value, 'dd-read'), ...(cold ? [] : ['not cold: the memory store is in the s3backer process'])],
      });
    } finally {
      await volume.close();
      await volume.drop();
    }
  },
};
