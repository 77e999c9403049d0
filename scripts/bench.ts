// `npm run bench`: workloads through real mounts of bin/s3backer, on the S3 server target (s3rver by
// default, --server=radosgw) and on the memory store (engine + FUSE alone), at every block size
// asked for (default 64 KiB and 1 MiB), each row next to a ceiling measured in the same run where
// there is one, with S3 requests against the blocks touched, s3backer's CPU and peak RSS.
// The rows come from the producers in scripts/bench/row-producers.ts (dd, ext4, small files, fio;
// the extension point for more); the ceilings from scripts/bench/ceilings.ts.
// `--only=codecs` (never in the default set): each codec through the object pipeline in-process,
// next to the raw library speed (scripts/bench/codec-bench.ts); needs no FUSE, server or root.
// Options: `npm run bench -- --help`; docs/benchmarks.md has the figures and what they mean.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, release, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fuseUnavailableReason } from '../test/helpers/fuse-support.js';
import { parseBenchOptions, formatSize, cacheBlocks, mountArgs, MiB, CODECS } from './bench/bench-options.js';
import { createBenchContext, type Ceilings } from './bench/bench-context.js';
import { cleanup } from './bench/cleanup-stack.js';
import { measureCeilings } from './bench/ceilings.js';
import { ROW_PRODUCERS } from './bench/row-producers.js';
import { startServerTarget, type ServerTarget } from './bench/server-target.js';
import { makeSmallFileSets, type SmallFileSets } from './bench/small-file-sets.js';
import { chooseFioEngine, type FioEngine } from './bench/fio-run.js';
import { step, benchStarted, elapsedSeconds } from './bench/progress.js';
import { formatTable, TABLE_LEGEND } from './bench/bench-table.js';
import { writeJson } from './bench/bench-json.js';
import { writeChart } from './bench/bench-chart.js';
import { runCodecBench, type CodecFigures } from './bench/codec-bench.js';
import { DD_BS, S3_TARGET, MEMORY_TARGET } from './bench/dd-rows.js';
import { FIO_MEMORY_TARGET } from './bench/fio-rows.js';
import { FUSE_REQUEST } from './bench/bare-fuse-ceiling.js';
import type { BenchRow } from './bench/bench-row.js';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const options = parseBenchOptions(argv, process.env, ROW_PRODUCERS);
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const producers = ROW_PRODUCERS.filter((producer) => options.workloads.includes(producer.id));
  const needs = (key: keyof (typeof producers)[number]['needs']) => producers.some((producer) => producer.needs[key]);
  // The codec workload runs in this process; only the producers mount (FUSE, loop devices, a server, root).
  const mounting = producers.length > 0;
  const blocked = mounting ? fuseUnavailableReason({ loop: needs('loop') }) : undefined;
  if (blocked) throw new Error(`${blocked}; the benchmark measures real mounts (try: sudo npm run bench)`);
  cleanup.installSignalHandlers();
  if (options.cpuProfDir) await mkdir(options.cpuProfDir, { recursive: true });

  const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version, kernel: release(), loadavgAtStart: loadavg() };
  // What was measured: dist/ is compiled from the working tree, which may hold uncommitted work.
  const git = (args: string[]) => { try { return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { return undefined; } };
  const code = { commit: git(['rev-parse', 'HEAD']), uncommittedFiles: git(['status', '--porcelain', '--untracked-files=no'])?.split('\n').filter(Boolean).length };
  const { total } = options;
  const storeNames = options.stores.map((store) => (store === 'server' ? options.server : 'memory'));
  console.log(`s3backer bench${options.quick ? ' --quick (smoke mode: small sizes, short rows; the figures are not comparable with a full run)' : ''}`);
  console.log(`workloads: ${options.workloads.join(', ')}; stores: ${storeNames.join(', ')}; block sizes ${options.blockSizes.map(formatSize).join(', ')}; ${total / MiB} MiB per sequential workload; fio ${options.fioSeconds} s per row; ${options.smallFiles.copyFiles} + ${options.smallFiles.treeFiles} small files`);
  for (const producer of producers) console.log(`  ${producer.id}: ${producer.describe}`);
  if (mounting) {
    console.log(`mount flags: ${options.blockSizes.map((bs) => `${formatSize(bs)}: ${mountArgs(options, bs).join(' ') || 's3backer defaults'} (block cache ${cacheBlocks(options, bs)} blocks)`).join('; ')}`);
  }
  console.log(`code: ${code.commit?.slice(0, 12) ?? 'unknown commit'}${code.uncommittedFiles ? ` + ${code.uncommittedFiles} uncommitted files` : ''}`);
  console.log(`machine: ${machine.cpus} CPUs (${machine.cpuModel}), Node ${machine.node}, Linux ${machine.kernel}, load average ${machine.loadavgAtStart.map((l) => l.toFixed(2)).join(' ')}`);
  if (options.cpuProfDir) console.log(`profiling: ${mounting ? 'every s3backer runs under node --cpu-prof' : 'each codec pipeline step runs under the V8 profiler, in-process'} (${options.cpuProfDir}); figures include the profiler's overhead`);

  const work = await mkdtemp(join(tmpdir(), 's3backer-bench-'));
  const releaseWork = cleanup.defer(`remove ${work}`, () => rm(work, { recursive: true, force: true }));
  // Inputs on tmpfs: reading them is never what a row measures.
  const sourceFile = join('/dev/shm', `s3backer-bench-${process.pid}`);
  const releaseSource = cleanup.defer(`remove ${sourceFile}`, () => rm(sourceFile, { force: true }));
  const filesDir = join('/dev/shm', `s3backer-bench-files-${process.pid}`);
  const releaseFiles = cleanup.defer(`remove ${filesDir}`, () => rm(filesDir, { recursive: true, force: true }));
  let target: ServerTarget | undefined;
  const releaseServer = cleanup.defer(`stop the ${options.server} server`, async () => { await target?.stop(); });
  let rows: BenchRow[] = [];
  const ceilings: Record<string, Ceilings> = {};
  let codecs: CodecFigures | undefined;
  let fioEngine: FioEngine | undefined;
  try {
    if (options.workloads.includes(CODECS)) {
      const run = await runCodecBench({ blockSizes: options.blockSizes, total: options.codecTotal, cpuProfDir: options.cpuProfDir, step });
      codecs = run.figures;
      console.log(`\n${run.table}\n\n${run.notes.join('\n')}\n`);
    }
    if (mounting) rows = await mountWorkloads();
    const expectedRows = options.blockSizes.flatMap((bs) => options.stores.flatMap((store) => producers
      .filter((producer) => producer.stores.includes(store))
      .flatMap((producer) => producer.rows.map((workload) => `${store === 'server' ? options.server : 'memory'}/${bs}/${workload}`))));
    const jsonPath = resolve(options.jsonPath);
    await writeJson(jsonPath, {
      command: `npm run bench -- ${argv.join(' ')}`.trim(),
      startedAt: new Date(benchStarted).toISOString(),
      durationSeconds: elapsedSeconds(),
      machine: { ...machine, loadavgAtEnd: loadavg() },
      code,
      settings: {
        quick: options.quick, totalBytes: total, blockSizes: options.blockSizes, stores: storeNames, workloads: options.workloads,
        server: target?.description, cache: options.cache, cacheBytes: options.cacheBytes, cacheArgs: options.cacheArgs, codecArgs: options.codecArgs,
        ddBs: DD_BS, fuseRequest: FUSE_REQUEST, fio: { seconds: options.fioSeconds, engine: fioEngine?.name, args: fioEngine?.args }, smallFiles: options.smallFiles,
        profiled: Boolean(options.cpuProfDir),
      },
      targets: { serverVsRawHttp: S3_TARGET, memoryVsBareFuse128k: MEMORY_TARGET, memoryVsBareFuse4kRandom: FIO_MEMORY_TARGET, peakRss: 'block cache + 150 MiB (server mounts)' },
      ceilings,
      expectedRows,
      rows,
      ...(codecs ? { codecs } : {}),
    });
    if (options.chartPath) {
      const when = new Date(benchStarted).toISOString().slice(0, 16).replace('T', ' ');
      await writeChart(resolve(options.chartPath), rows, {
        title: `s3backer bench: each row against its same-run ceiling${options.quick ? ' (--quick)' : ''}`,
        subtitle: `${when} UTC, code ${code.commit?.slice(0, 7) ?? '?'}${code.uncommittedFiles ? '+' : ''}, ${machine.cpus} vCPU, Linux ${machine.kernel}, Node ${machine.node}; ${total / MiB} MiB sequential, fio ${options.fioSeconds} s${options.codecArgs.length ? `, ${options.codecArgs.filter((a) => !a.startsWith('--password')).join(' ')}` : ''}`,
      });
      console.log(`chart written to ${resolve(options.chartPath)}`);
    }
    const missing = expectedRows.filter((id) => !rows.some((row) => row.id === id));
    if (missing.length) throw new Error(`rows missing from the run: ${missing.join(', ')}`);
    console.log(`figures written to ${jsonPath}; total time ${elapsedSeconds().toFixed(0)} s`);
  } finally {
    await releaseServer();
    await releaseFiles();
    await releaseSource();
    await releaseWork();
  }

  async function mountWorkloads(): Promise<BenchRow[]> {
    await writeFile(sourceFile, randomBytes(total));
    let smallFiles: SmallFileSets | undefined;
    if (needs('smallFiles')) {
      smallFiles = await step(`small-file inputs: ${options.smallFiles.copyFiles} files to copy + a ${options.smallFiles.treeFiles}-file tar (seed ${options.smallFiles.seed})`,
        async () => {
          await mkdir(filesDir);
          return makeSmallFileSets(filesDir, options.smallFiles);
        },
        (sets) => `${(sets.copyBytes / MiB).toFixed(1)} + ${(sets.treeBytes / MiB).toFixed(1)} MiB`);
    }
    if (needs('fio')) fioEngine = await step('fio engine for 4 KiB at queue depth 16', () => chooseFioEngine(work), (engine) => `${engine.name} (${engine.args.join(' ')})`);
    if (options.stores.includes('server')) target = await step(`start ${options.server} on 127.0.0.1`, () => startServerTarget(options.server), (t) => `${t.endpoint}: ${t.description}`);
    const bench = createBenchContext({ options, target, work, source: sourceFile, smallFiles, fioEngine });

    for (const blockSize of options.blockSizes) {
      for (const store of options.stores) {
        const storeProducers = producers.filter((producer) => producer.stores.includes(store));
        if (storeProducers.length === 0) continue;
        const storeName = store === 'server' ? target!.name : 'memory';
        const rc = { bench, store, storeName, blockSize, ceilings: await measureCeilings(bench, store, blockSize, storeProducers) };
        ceilings[`${storeName}/${blockSize}`] = rc.ceilings;
        for (const producer of storeProducers) await producer.run(rc);
      }
    }

    console.log(`\n${TABLE_LEGEND}\n`);
    console.log(formatTable(bench.rows));
    const missed = bench.rows.filter((row) => row.meetsTarget === false);
    const over = bench.rows.filter((row) => row.requests?.ok === false);
    console.log(`\ntargets: ${bench.rows.filter((row) => row.meetsTarget).length} met, ${missed.length} missed${missed.length ? ` (${missed.map((row) => `${row.id} ${row.ratio!.toFixed(2)} < ${row.target}`).join('; ')})` : ''}`);
    console.log(`requests: ${over.length ? `more than the blocks touched allow in ${over.map((row) => `${row.id} +${row.requests!.excess} (${row.requests!.rule}: ${row.requests!.puts} PUTs, ${row.requests!.gets} GETs, ${row.requests!.deletes} DELETEs, ${row.requests!.touched!.blocks} blocks)`).join('; ')}` : 'no row issued more requests than the blocks it touched allow'}`);
    return bench.rows;
  }
}

main().catch(async (error) => {
  console.error(`\nbench failed: ${error instanceof Error ? error.stack : String(error)}`);
  await cleanup.unwind();
  process.exitCode = 1;
});
