// The ceilings of one block size for one store, measured right before that store's rows (the load
// on a shared machine changes minute to minute): on a server, raw HTTP PUT and GET of block-sized
// objects; on the memory store, the bare fuse-native file (dd 128 KiB write and read, and the fio
// rows' 4 KiB random jobs). Only those the selected producers compare with are measured.
import { formatSize, MiB } from './bench-options.js';
import type { BenchContext, Ceilings } from './bench-context.js';
import { bareFuseCeiling, FUSE_REQUEST } from './bare-fuse-ceiling.js';
import { IN_FLIGHT, rawHttpCeiling } from './raw-http-ceiling.js';
import type { RowProducer } from './row-producer.js';
import { describeFigure, step } from './progress.js';
import type { StoreKind } from './bench-options.js';

export async function measureCeilings(bench: BenchContext, store: StoreKind, blockSize: number, producers: readonly RowProducer[]): Promise<Ceilings> {
  const { total, fioSeconds } = bench.options;
  const bs = formatSize(blockSize);
  const needs = (key: keyof RowProducer['needs']) => producers.some((p) => p.needs[key]);
  const ceilings: Ceilings = {};
  if (store === 'server' && needs('rawHttp')) {
    const target = bench.target!;
    const bucket = `raw-${blockSize}`;
    const raw = await step(`${bs} ${target.name}: ceiling: raw keep-alive HTTP PUT + GET of ${bs} objects, ${IN_FLIGHT} in flight, ${total / MiB} MiB`,
      async () => {
        try {
          return await rawHttpCeiling(target, bucket, blockSize, total);
        } finally {
          await target.dropBucket(bucket);
        }
      },
      (r) => `PUT ${describeFigure(r.put, 'MB/s')}; GET ${describeFigure(r.get, 'MB/s')}`);
    ceilings.rawPut = raw.put;
    ceilings.rawGet = raw.get;
  }
  if (store === 'memory' && (needs('bareFuse') || needs('bareFuseRandom'))) {
    const fio = needs('bareFuseRandom') && bench.fioEngine ? { engine: bench.fioEngine, seconds: fioSeconds } : undefined;
    const bare = await step(`${bs} memory: ceiling: bare fuse-native file, dd ${FUSE_REQUEST / 1024} KiB write + read ${total / MiB} MiB${fio ? `, fio 4k randread + randwrite ${fioSeconds} s each` : ''}`,
      async () => bareFuseCeiling(bench.source, await bench.newMountPoint('bare'), total, fio),
      (b) => [`write ${describeFigure(b.write, 'MB/s')}`, `read ${describeFigure(b.read, 'MB/s')}`,
        ...(b.randRead ? [`randread ${describeFigure(b.randRead, 'IOPS')}`] : []), ...(b.randWrite ? [`randwrite ${describeFigure(b.randWrite, 'IOPS')}`] : [])].join('; '));
    ceilings.bareWrite = bare.write;
    ceilings.bareRead = bare.read;
    if (bare.randRead) ceilings.bareRandRead = bare.randRead;
    if (bare.randWrite) ceilings.bareRandWrite = bare.randWrite;
  }
  return ceilings;
}
