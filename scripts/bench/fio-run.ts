// fio as the random-I/O driver: 4 KiB requests at queue depth 16 with O_DIRECT (no page cache:
// every request reaches the FUSE file), for a fixed time. The engine is the first of libaio,
// io_uring and psync that works here: libaio keeps 16 requests in flight through FUSE's async
// direct I/O with no helper threads (the machine has 2 cores to share); io_uring would push them
// through its worker threads; psync gets its depth from 16 jobs of one request each. With fio's
// I/O log the exact set of blocks the run touched is known (not with psync's 16 jobs).
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { mustRunTracked, runTracked } from './run-tracked.js';

export const FIO_REQUEST = 4096;
export const FIO_DEPTH = 16;

export interface FioEngine {
  name: 'libaio' | 'io_uring' | 'psync';
  /** fio flags giving FIO_DEPTH requests in flight with this engine. */
  args: string[];
  /** Whether fio's I/O log covers every request (one job). */
  logsEveryRequest: boolean;
}

const ENGINES: FioEngine[] = [
  { name: 'libaio', args: ['--ioengine=libaio', `--iodepth=${FIO_DEPTH}`], logsEveryRequest: true },
  { name: 'io_uring', args: ['--ioengine=io_uring', `--iodepth=${FIO_DEPTH}`], logsEveryRequest: true },
  { name: 'psync', args: ['--ioengine=psync', `--numjobs=${FIO_DEPTH}`, '--group_reporting'], logsEveryRequest: false },
];

/** The first engine a 4 KiB fio job runs with in `dir` (a probe file there, removed after). */
export async function chooseFioEngine(dir: string): Promise<FioEngine> {
  const probe = join(dir, 'fio-engine-probe');
  try {
    for (const engine of ENGINES) {
      const result = await runTracked('fio', ['--name=probe', `--filename=${probe}`, '--size=64k', '--rw=randread', '--bs=4k', '--io_size=16k', ...engine.args, '--output-format=terse']);
      if (result.code === 0) return engine;
    }
  } finally {
    await rm(probe, { force: true });
  }
  throw new Error('fio runs with none of libaio, io_uring, psync here');
}

export interface FioRun {
  /** Requests completed. */
  ios: number;
  /** Wall time of the fio process (start-up, the timed run, and for writes the final fsync). */
  seconds: number;
  iops: number;
  /** Mean completion latency, µs. */
  meanLatencyUs: number;
  /** fio's I/O log (one line per request), when the engine logs every request. */
  iologPath: string | undefined;
}

export interface FioJob {
  file: string;
  rw: 'randread' | 'randwrite';
  /** Bytes of the file the offsets are spread over (from 0). */
  size: number;
  seconds: number;
  engine: FioEngine;
  /** Where to write the I/O log (ignored with psync). */
  iologPath?: string;
}

interface FioJson {
  jobs: Array<{ read: FioDirection; write: FioDirection }>;
}
interface FioDirection {
  total_ios: number;
  clat_ns: { mean: number };
}

export async function runFio(job: FioJob): Promise<FioRun> {
  const iologPath = job.engine.logsEveryRequest ? job.iologPath : undefined;
  const args = [
    '--name=bench', `--filename=${job.file}`, `--rw=${job.rw}`, `--bs=${FIO_REQUEST}`, '--direct=1', `--size=${job.size}`,
    '--time_based', `--runtime=${job.seconds}s`, ...job.engine.args,
    // The disk file exists at its full size: never create, lay out or truncate it.
    '--allow_file_create=0', '--randrepeat=1', '--norandommap',
    // A write row ends when its data is stored, as the dd rows do (fdatasync).
    ...(job.rw === 'randwrite' ? ['--end_fsync=1'] : []),
    ...(iologPath ? [`--write_iolog=${iologPath}`] : []),
    '--output-format=json',
  ];
  const { stdout, seconds } = await mustRunTracked('fio', args, { timeoutMs: (job.seconds + 300) * 1000 });
  // fio may print warnings before the JSON document.
  const report = JSON.parse(stdout.slice(stdout.indexOf('{'))) as FioJson;
  const direction = job.rw === 'randread' ? 'read' : 'write';
  const ios = report.jobs.reduce((sum, j) => sum + j[direction].total_ios, 0);
  const meanLatencyUs = report.jobs.reduce((sum, j) => sum + j[direction].clat_ns.mean * j[direction].total_ios, 0) / Math.max(1, ios) / 1000;
  return { ios, seconds, iops: ios / seconds, meanLatencyUs, iologPath };
}

/** Distinct blocks of `blockSize` the requests in fio's I/O log touched. */
export async function blocksInIolog(iologPath: string, blockSize: number): Promise<number> {
  const blocks = new Set<number>();
  for (const line of (await readFile(iologPath, 'utf8')).split('\n')) {
    const match = / (?:read|write) (\d+) (\d+)$/.exec(line);
    if (!match) continue;
    const offset = Number(match[1]);
    const end = offset + Number(match[2]) - 1;
    for (let block = Math.floor(offset / blockSize); block <= Math.floor(end / blockSize); block++) blocks.add(block);
  }
  return blocks.size;
}
