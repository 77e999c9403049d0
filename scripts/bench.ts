// `npm run bench`: sequential workloads through real mounts of bin/s3backer, each printed next to a
// ceiling measured in the same run, at every block size asked for (default 64 KiB and 1 MiB):
//   memory store  dd 128 KiB requests (--directIO) write + read   vs bare fuse-native in memory
//   s3rver        dd bs=1M buffered write + conv=fdatasync        vs raw HTTP PUT, 32 in flight
//   s3rver        dd bs=1M buffered COLD read (new process)       vs raw HTTP GET, 32 in flight
//   s3rver        ext4 (loop, direct I/O): cp + sync -f           vs raw HTTP PUT
//   s3rver        ext4 COLD read (everything remounted)           vs raw HTTP GET
// with S3 request counts (actual / what one sequential pass needs), s3backer CPU and peak RSS.
// `--only=codecs` (never in the default set): each codec through the object pipeline in-process,
// next to the raw library speed (scripts/bench/codec-bench.ts); needs no FUSE, s3rver or root.
// Options: `npm run bench -- --help`; docs/benchmarks.md has the figures and what they mean.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, release, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startS3rver, type S3rverServer } from '../test/helpers/s3rver-server.js';
import { fuseUnavailableReason } from '../test/helpers/fuse-support.js';
import { parseBenchOptions, formatSize, MiB, type BenchOptions } from './bench/bench-options.js';
import { cleanup } from './bench/cleanup-stack.js';
import { childPids } from './bench/proc-stats.js';
import { rawHttpCeiling, IN_FLIGHT, type CeilingRun } from './bench/raw-http-ceiling.js';
import { bareFuseCeiling, FUSE_REQUEST, type BareFuseRun } from './bench/bare-fuse-ceiling.js';
import { S3backerMount } from './bench/s3backer-mount.js';
import { measuredPhase, type PhaseFigures } from './bench/measured-phase.js';
import { timedDd } from './bench/timed-dd.js';
import { makeExt4, mountExt4OnLoop } from './bench/ext4-on-loop.js';
import { mustRunTracked } from './bench/run-tracked.js';
import { summariseCpuProfile, formatProfileSummary, type ProfileSummary } from './bench/cpu-profile-summary.js';
import { formatTable, writeJson, type BenchRow } from './bench/bench-report.js';
import { runCodecBench, type CodecFigures } from './bench/codec-bench.js';

const S3_TARGET = 0.9;
const MEMORY_TARGET = 0.8;
const RSS_HEADROOM_MIB = 150;
/** dd request size for the buffered s3 workloads: the kernel splits it into 128 KiB FUSE requests and overlaps them. */
const DD_BS = MiB;

const started = Date.now();

type ProcessFigures = { pid: number; lifetimeCpuSeconds: number; rssAtMountMiB: number; peakRssMiB: number };
const describeProcess = (p: ProcessFigures) => `RSS at mount ${p.rssAtMountMiB.toFixed(0)} MiB, peak ${p.peakRssMiB.toFixed(0)} MiB; CPU since start ${p.lifetimeCpuSeconds.toFixed(1)} s`;
/** Progress: one line per step, `[elapsed] what: result`. */
async function step<T>(what: string, work: () => Promise<T>, result: (value: T) => string): Promise<T> {
  cleanup.check();
  process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s] ${what} ... `);
  const value = await work();
  process.stdout.write(`${result(value)}\n`);
  return value;
}

interface Context {
  options: BenchOptions;
  server: S3rverServer;
  s3rverPid: number;
  work: string;
  /** Random bytes on tmpfs (zeros would be elided; tmpfs is never the bottleneck). */
  source: string;
  bare: { write: BareFuseRun; read: BareFuseRun } | undefined;
  rows: BenchRow[];
  mountCount: number;
}

const mbps = (figures: { mbps: number; seconds: number; cpu?: Record<string, { cores: number }> }) =>
  `${figures.mbps.toFixed(1)} MB/s (${figures.seconds.toFixed(1)} s)${figures.cpu?.outside ? `, outside load ${figures.cpu.outside.cores.toFixed(2)} cores` : ''}`;

async function newMountPoint(ctx: Context, label: string): Promise<string> {
  const path = join(ctx.work, `mnt-${++ctx.mountCount}-${label}`);
  await mkdir(path);
  return path;
}

/** node flags for an s3backer process: --cpu-prof into the profile directory when asked. */
function nodeFlags(ctx: Context, label: string): string[] {
  const dir = ctx.options.cpuProfDir;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${label}.cpuprofile`] : [];
}

/** With --cpu-prof: the s3backer profile `label` (written at its exit) cut to one measured step. */
async function profileOf(ctx: Context, label: string, phase: PhaseFigures, what: string): Promise<ProfileSummary | undefined> {
  const dir = ctx.options.cpuProfDir;
  if (!dir) return undefined;
  const summary = await summariseCpuProfile(join(dir, `${label}.cpuprofile`), phase.window);
  console.log(formatProfileSummary(`${label} during ${what}`, summary));
  return summary;
}

/** The end of a mount: its lifetime CPU and peak RSS sampled just before `umount`, then a clean exit (status 0) awaited. */
async function finish(mount: S3backerMount): Promise<ProcessFigures> {
  const figures = { pid: mount.pid, lifetimeCpuSeconds: mount.cpuSeconds(), rssAtMountMiB: mount.rssAtMountMiB, peakRssMiB: mount.peakRssMiB() };
  await mount.unmount();
  await mount.release();
  return figures;
}

function rssLimit(ctx: Context, blockSize: number, diskSize: number): number {
  // The cache holds at most --blockCacheSize blocks, capped to the volume's block count.
  const blocks = Math.min(ctx.options.cache.blockCacheSize, diskSize / blockSize);
  return (blocks * blockSize) / MiB + RSS_HEADROOM_MIB;
}

function s3Row(blockSize: number, workload: string, phase: PhaseFigures, ceiling: { name: string; run: CeilingRun },
  expected: { puts: number; gets: number; note?: string }, proc: ProcessFigures, limitMiB: number, notes: string[]): BenchRow {
  const ratio = phase.mbps / ceiling.run.mbps;
  return {
    blockSize, store: 's3rver', workload, mbps: phase.mbps, seconds: phase.seconds,
    ceiling: { name: ceiling.name, mbps: ceiling.run.mbps }, ratio, target: S3_TARGET, meetsTarget: ratio >= S3_TARGET,
    requests: {
      puts: phase.deltas.http_puts ?? NaN, gets: phase.deltas.http_gets ?? NaN, deletes: phase.deltas.http_deletes ?? NaN,
      expectedPuts: expected.puts, expectedGets: expected.gets, ...(expected.note ? { expectedNote: expected.note } : {}),
    },
    cpu: phase.cpu,
    process: { ...proc, rssLimitMiB: limitMiB, meetsRss: proc.peakRssMiB <= limitMiB },
    counterDeltas: phase.deltas,
    notes,
  };
}

/** Engine + FUSE alone: the memory store, 128 KiB direct-I/O requests (one FUSE round trip each), against bare fuse-native. */
async function memoryStore(ctx: Context, blockSize: number): Promise<void> {
  const { total } = ctx.options;
  const label = `memory-${blockSize}`;
  const mnt = await newMountPoint(ctx, label);
  const mount = await step(`${formatSize(blockSize)}: mount memory store (--directIO)`,
    () => S3backerMount.start(mnt, ['--store=memory', '--directIO', `--size=${total}`, `--blockSize=${blockSize}`, ...ctx.options.cacheArgs, 'bench'], nodeFlags(ctx, label)),
    (m) => `PID ${m.pid}`);
  try {
    const write = await step(`${formatSize(blockSize)}: memory store dd write ${total / MiB} MiB bs=128k +fsync`,
      () => measuredPhase(mount, undefined, () => timedDd([`if=${ctx.source}`, `of=${mount.diskFile}`, 'conv=notrunc,fsync'], FUSE_REQUEST, total)), mbps);
    const read = await step(`${formatSize(blockSize)}: memory store dd read ${total / MiB} MiB bs=128k`,
      () => measuredPhase(mount, undefined, () => timedDd([`if=${mount.diskFile}`, 'of=/dev/null'], FUSE_REQUEST, total)), mbps);
    const proc = await step(`${formatSize(blockSize)}: unmount memory store`, () => finish(mount), describeProcess);
    const profiles = { write: await profileOf(ctx, label, write, 'dd write'), read: await profileOf(ctx, label, read, 'dd read') };
    const row = (workload: string, phase: PhaseFigures, ceiling: BareFuseRun, name: string, profile: ProfileSummary | undefined): BenchRow => ({
      blockSize, store: 'memory', workload, mbps: phase.mbps, seconds: phase.seconds,
      ceiling: { name, mbps: ceiling.mbps }, ratio: phase.mbps / ceiling.mbps, target: MEMORY_TARGET, meetsTarget: phase.mbps / ceiling.mbps >= MEMORY_TARGET,
      cpu: phase.cpu, process: proc, counterDeltas: phase.deltas, ...(profile ? { profile } : {}),
      notes: ['RSS includes the memory store\'s own copy of the disk: no RSS target'],
    });
    ctx.rows.push(
      row('memory: dd write 128k --directIO +fsync', write, ctx.bare!.write, 'bare FUSE write 128k', profiles.write),
      row('memory: dd read 128k --directIO', read, ctx.bare!.read, 'bare FUSE read 128k', profiles.read),
    );
  } finally {
    await mount.release();
  }
}

/** The s3 store's mount arguments for one volume. */
function s3Args(ctx: Context, bucket: string, size: number, blockSize: number): string[] {
  const { server } = ctx;
  return [`--baseURL=${server.endpoint}`, `--accessId=${server.accessId}`, `--accessKey=${server.accessKey}`,
    `--size=${size}`, `--blockSize=${blockSize}`, ...ctx.options.cacheArgs, `${bucket}/disk`];
}

/** dd on the disk file: buffered write + fdatasync, then a cold read from a new process on a new mount. */
async function ddOnS3(ctx: Context, blockSize: number, raw: { put: CeilingRun; get: CeilingRun }): Promise<void> {
  const { total } = ctx.options;
  const bs = formatSize(blockSize);
  const bucket = `dd-${blockSize}`;
  await ctx.server.createBucket(bucket);
  const n = total / blockSize;
  const limit = rssLimit(ctx, blockSize, total);
  {
    const label = `dd-write-${blockSize}`;
    const mnt = await newMountPoint(ctx, label);
    const mount = await step(`${bs}: mount s3rver volume`, () => S3backerMount.start(mnt, s3Args(ctx, bucket, total, blockSize), nodeFlags(ctx, label)), (m) => `PID ${m.pid}`);
    try {
      const phase = await step(`${bs}: s3rver dd write ${total / MiB} MiB bs=1M buffered +fdatasync`,
        () => measuredPhase(mount, ctx.s3rverPid, () => timedDd([`if=${ctx.source}`, `of=${mount.diskFile}`, 'conv=notrunc,fdatasync'], DD_BS, total)),
        (p) => `${mbps(p)}, ${p.deltas.http_puts} PUTs, ${p.deltas.http_gets} GETs`);
      const proc = await step(`${bs}: unmount`, () => finish(mount), describeProcess);
      const profile = await profileOf(ctx, label, phase, 'dd write');
      const notes = phase.after.block_cache_dirty_ratio ? [`block_cache_dirty_ratio ${phase.after.block_cache_dirty_ratio} after fdatasync`] : [];
      ctx.rows.push({ ...s3Row(blockSize, 's3rver: dd write bs=1M buffered +fdatasync', phase, { name: `raw PUT ${bs} x${IN_FLIGHT}`, run: raw.put }, { puts: n, gets: 0 }, proc, limit, notes), ...(profile ? { profile } : {}) });
    } finally {
      await mount.release();
    }
  }
  {
    const label = `dd-read-${blockSize}`;
    const mnt = await newMountPoint(ctx, label);
    const mount = await step(`${bs}: mount s3rver volume again (new process: empty block cache; new mount: no page cache)`,
      () => S3backerMount.start(mnt, s3Args(ctx, bucket, total, blockSize), nodeFlags(ctx, label)), (m) => `PID ${m.pid}`);
    try {
      const phase = await step(`${bs}: s3rver dd COLD read ${total / MiB} MiB bs=1M buffered`,
        () => measuredPhase(mount, ctx.s3rverPid, () => timedDd([`if=${mount.diskFile}`, 'of=/dev/null'], DD_BS, total)),
        (p) => `${mbps(p)}, ${p.deltas.http_gets} GETs, ${p.deltas.http_puts} PUTs`);
      const proc = await step(`${bs}: unmount`, () => finish(mount), describeProcess);
      const profile = await profileOf(ctx, label, phase, 'dd cold read');
      ctx.rows.push({ ...s3Row(blockSize, 's3rver: dd cold read bs=1M buffered', phase, { name: `raw GET ${bs} x${IN_FLIGHT}`, run: raw.get }, { puts: 0, gets: n }, proc, limit, []), ...(profile ? { profile } : {}) });
    } finally {
      await mount.release();
    }
  }
}

/** ext4 on a loop device (direct I/O) over the disk file: cp + sync -f in, then a cold read with everything remounted. */
async function ext4OnS3(ctx: Context, blockSize: number, raw: { put: CeilingRun; get: CeilingRun }): Promise<void> {
  const { total } = ctx.options;
  const bs = formatSize(blockSize);
  const bucket = `ext4-${blockSize}`;
  await ctx.server.createBucket(bucket);
  // Room for the file plus ext4's journal and tables.
  const size = Math.ceil((total * 1.25 + 32 * MiB) / blockSize) * blockSize;
  const n = total / blockSize;
  const limit = rssLimit(ctx, blockSize, size);
  const note = 'file data only; ext4 metadata, journal and unaligned edges add a few';
  {
    const label = `ext4-write-${blockSize}`;
    const mnt = await newMountPoint(ctx, label);
    const fsDir = await newMountPoint(ctx, `${label}-ext4`);
    const mount = await step(`${bs}: mount s3rver volume (${size / MiB} MiB)`, () => S3backerMount.start(mnt, s3Args(ctx, bucket, size, blockSize), nodeFlags(ctx, label)), (m) => `PID ${m.pid}`);
    try {
      await step(`${bs}: mkfs.ext4 -E nodiscard on the disk file`, () => makeExt4(mount.diskFile), () => 'done');
      const ext4 = await step(`${bs}: losetup --direct-io=on + mount ext4`, () => mountExt4OnLoop(mount.diskFile, fsDir), (e) => `${e.device}, loop direct I/O ${e.directIO ? 'on' : 'OFF (fell back to buffered)'}`);
      let phase: PhaseFigures;
      try {
        phase = await step(`${bs}: ext4 cp ${total / MiB} MiB file + sync -f`, () => measuredPhase(mount, ctx.s3rverPid, async () => {
          const cp = await mustRunTracked('cp', [ctx.source, join(fsDir, 'file')]);
          const sync = await mustRunTracked('sync', ['-f', join(fsDir, 'file')]);
          const seconds = cp.seconds + sync.seconds;
          return { mbps: total / seconds / 1e6, seconds };
        }), (p) => `${mbps(p)}, ${p.deltas.http_puts} PUTs, ${p.deltas.http_gets} GETs`);
      } finally {
        await ext4.release();
      }
      const proc = await step(`${bs}: unmount`, () => finish(mount), describeProcess);
      const profile = await profileOf(ctx, label, phase, 'ext4 cp + sync');
      const notes = [`loop device direct I/O ${ext4.directIO ? 'on' : 'off'}`,
        ...(phase.after.block_cache_dirty_ratio ? [`block_cache_dirty_ratio ${phase.after.block_cache_dirty_ratio} after sync -f`] : [])];
      ctx.rows.push({ ...s3Row(blockSize, 's3rver: ext4 cp + sync -f', phase, { name: `raw PUT ${bs} x${IN_FLIGHT}`, run: raw.put }, { puts: n, gets: 0, note }, proc, limit, notes), ...(profile ? { profile } : {}) });
    } finally {
      await mount.release();
    }
  }
  {
    const label = `ext4-read-${blockSize}`;
    const mnt = await newMountPoint(ctx, label);
    const fsDir = await newMountPoint(ctx, `${label}-ext4`);
    const mount = await step(`${bs}: mount s3rver volume again (new process)`, () => S3backerMount.start(mnt, s3Args(ctx, bucket, size, blockSize), nodeFlags(ctx, label)), (m) => `PID ${m.pid}`);
    try {
      const ext4 = await step(`${bs}: losetup --direct-io=on + mount ext4 (noatime)`, () => mountExt4OnLoop(mount.diskFile, fsDir), (e) => `${e.device}, loop direct I/O ${e.directIO ? 'on' : 'OFF'}`);
      let phase: PhaseFigures;
      try {
        phase = await step(`${bs}: ext4 COLD read ${total / MiB} MiB bs=1M`,
          () => measuredPhase(mount, ctx.s3rverPid, () => timedDd([`if=${join(fsDir, 'file')}`, 'of=/dev/null'], DD_BS, total)),
          (p) => `${mbps(p)}, ${p.deltas.http_gets} GETs, ${p.deltas.http_puts} PUTs`);
      } finally {
        await ext4.release();
      }
      const proc = await step(`${bs}: unmount`, () => finish(mount), describeProcess);
      const profile = await profileOf(ctx, label, phase, 'ext4 cold read');
      ctx.rows.push({ ...s3Row(blockSize, 's3rver: ext4 cold read bs=1M', phase, { name: `raw GET ${bs} x${IN_FLIGHT}`, run: raw.get }, { puts: 0, gets: n, note }, proc, limit, [`loop device direct I/O ${ext4.directIO ? 'on' : 'off'}`]), ...(profile ? { profile } : {}) });
    } finally {
      await mount.release();
    }
  }
}

async function main(): Promise<void> {
  const options = parseBenchOptions(process.argv.slice(2), process.env);
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // The codec workload runs in this process; only the others mount (FUSE, loop devices, s3rver, root).
  const mounting = options.workloads.some((w) => w !== 'codecs');
  const blocked = mounting ? fuseUnavailableReason({ loop: options.workloads.includes('ext4') }) : undefined;
  if (blocked) throw new Error(`${blocked}; the benchmark measures real mounts (try: sudo npm run bench)`);
  cleanup.installSignalHandlers();
  if (options.cpuProfDir) await mkdir(options.cpuProfDir, { recursive: true });

  const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version, kernel: release(), loadavgAtStart: loadavg() };
  // What was measured: dist/ is compiled from the working tree, which may hold uncommitted work.
  const git = (args: string[]) => { try { return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { return undefined; } };
  const code = { commit: git(['rev-parse', 'HEAD']), uncommittedFiles: git(['status', '--porcelain', '--untracked-files=no'])?.split('\n').filter(Boolean).length };
  const { total } = options;
  console.log(`s3backer bench: ${total / MiB} MiB per workload, block sizes ${options.blockSizes.map(formatSize).join(', ')}, workloads ${options.workloads.join(', ')}`);
  if (mounting) console.log(`cache: ${Object.entries(options.cache).map(([k, v]) => `--${k}=${v}`).join(' ')} (${options.cacheArgs.length ? options.cacheArgs.join(' ') : 's3backer defaults'})`);
  console.log(`code: ${code.commit?.slice(0, 12) ?? 'unknown commit'}${code.uncommittedFiles ? ` + ${code.uncommittedFiles} uncommitted files` : ''}`);
  console.log(`machine: ${machine.cpus} CPUs (${machine.cpuModel}), Node ${machine.node}, Linux ${machine.kernel}, load average ${machine.loadavgAtStart.map((l) => l.toFixed(2)).join(' ')}`);
  if (mounting) console.log('cold reads: a new s3backer process on a new FUSE mount (empty block cache; a new mount has no page cache for the file), buffered, as users run it; s3rver data on tmpfs');
  if (options.cpuProfDir) console.log(`profiling: ${mounting ? 'every s3backer runs under node --cpu-prof' : 'each codec pipeline step runs under the V8 profiler, in-process'} (${options.cpuProfDir}); figures include the profiler's overhead`);

  const work = await mkdtemp(join(tmpdir(), 's3backer-bench-'));
  const releaseWork = cleanup.defer(`remove ${work}`, () => rm(work, { recursive: true, force: true }));
  const sourceFile = join('/dev/shm', `s3backer-bench-${process.pid}`);
  const releaseSource = cleanup.defer(`remove ${sourceFile}`, () => rm(sourceFile, { force: true }));
  let server: S3rverServer | undefined;
  const releaseServer = cleanup.defer('stop s3rver', async () => { await server?.stop(); });
  const rows: BenchRow[] = [];
  const ceilings: Record<string, unknown> = {};
  let codecs: CodecFigures | undefined;
  try {
    if (options.workloads.includes('codecs')) {
      const run = await runCodecBench({ blockSizes: options.blockSizes, total: options.codecTotal, cpuProfDir: options.cpuProfDir, step });
      codecs = run.figures;
      console.log(`\n${run.table}\n\n${run.notes.join('\n')}\n`);
    }
    if (mounting) await mountWorkloads();
    const jsonPath = resolve(options.jsonPath);
    await writeJson(jsonPath, {
      command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
      startedAt: new Date(started).toISOString(),
      durationSeconds: (Date.now() - started) / 1000,
      machine: { ...machine, loadavgAtEnd: loadavg() },
      code,
      settings: { totalBytes: total, blockSizes: options.blockSizes, cache: options.cache, cacheArgs: options.cacheArgs, ddBs: DD_BS, fuseRequest: FUSE_REQUEST, profiled: Boolean(options.cpuProfDir) },
      targets: { s3VsRawHttp: S3_TARGET, memoryVsBareFuse: MEMORY_TARGET, peakRss: `cache size + ${RSS_HEADROOM_MIB} MiB` },
      ceilings,
      rows,
      ...(codecs ? { codecs } : {}),
    });
    console.log(`\nfigures written to ${jsonPath}; total time ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    await releaseServer();
    await releaseSource();
    await releaseWork();
  }

  async function mountWorkloads(): Promise<void> {
    await writeFile(sourceFile, randomBytes(total));
    // s3rver keeps objects in files under os.tmpdir(): put them on tmpfs, so the server's disk is not what is measured.
    const savedTmp = process.env.TMPDIR;
    process.env.TMPDIR = '/dev/shm';
    try {
      server = await step('start s3rver on 127.0.0.1', () => startS3rver(), (s) => s.endpoint);
    } finally {
      if (savedTmp === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = savedTmp;
    }
    const s3rverPid = childPids('s3rver-main')[0];
    if (s3rverPid === undefined) throw new Error('cannot find the s3rver process among our children');
    const ctx: Context = { options, server, s3rverPid, work, source: sourceFile, bare: undefined, rows, mountCount: 0 };

    for (const blockSize of options.blockSizes) {
      const bs = formatSize(blockSize);
      let raw: { put: CeilingRun; get: CeilingRun } | undefined;
      if (options.workloads.some((w) => w !== 'memory')) {
        raw = await step(`${bs}: ceiling: raw keep-alive HTTP PUT + GET of ${bs} objects, ${IN_FLIGHT} in flight, ${total / MiB} MiB`,
          () => rawHttpCeiling(server!, `raw-${blockSize}`, blockSize, total, s3rverPid),
          (r) => `PUT ${mbps(r.put)}, s3rver ${r.put.cpu.s3rver!.cores.toFixed(2)} cores; GET ${mbps(r.get)}, s3rver ${r.get.cpu.s3rver!.cores.toFixed(2)} cores`);
        ceilings[`rawHttp${blockSize}`] = { objectSize: blockSize, inFlight: IN_FLIGHT, ...raw };
      }
      if (options.workloads.includes('memory')) {
        // Measured right before the step it bounds: on a shared machine the load changes minute to minute.
        ctx.bare = await step(`${bs}: ceiling: bare fuse-native, ${FUSE_REQUEST / 1024} KiB requests, write + read ${total / MiB} MiB`,
          async () => bareFuseCeiling(sourceFile, await newMountPoint(ctx, 'bare'), total), (b) => `write ${mbps(b.write)}; read ${mbps(b.read)}`);
        ceilings[`bareFuse${blockSize}`] = { requestSize: FUSE_REQUEST, ...ctx.bare };
        await memoryStore(ctx, blockSize);
      }
      if (options.workloads.includes('dd')) await ddOnS3(ctx, blockSize, raw!);
      if (options.workloads.includes('ext4')) await ext4OnS3(ctx, blockSize, raw!);
      // This block size's objects are no longer needed: keep tmpfs use bounded.
      for (const bucket of ['raw', 'dd', 'ext4']) await rm(join(server.directory, `${bucket}-${blockSize}`), { recursive: true, force: true });
    }

    console.log(`\n${total / MiB} MiB per workload; MB/s = 10^6 B/s; ratio = MB/s / same-run ceiling; requests counted from the stats file over the step (expected: one sequential pass, no more);`);
    console.log('s3b CPU / cores = the s3backer process (all threads) over the step, from /proc/PID/stat; s3rver cores likewise;\noutside = cores used by everything outside this benchmark over the step (other users, kernel threads: a disturbed figure); RSS peak = VmHWM just before unmount (limit: cache size + 150 MiB), mount = VmRSS right after mounting\n');
    console.log(formatTable(rows));
  }
}

main().catch(async (error) => {
  console.error(`\nbench failed: ${error instanceof Error ? error.stack : String(error)}`);
  await cleanup.unwind();
  process.exitCode = 1;
});
