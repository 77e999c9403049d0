// The benchmark's command line (`npm run bench -- --help`). BENCH_MIB sets the default of --mib.
// `codecs` is in-process (no mount, no root) and runs only when --only names it.
import { OPTION_TABLE } from '../../src/config/options.js';
import { SERVER_TARGETS, type ServerTargetName } from './server-target.js';

export const KiB = 1024;
export const MiB = 1024 * KiB;

/** The s3backer cache options a run may set; the rest are passed through unchanged too. */
const CACHE_KEYS = ['blockCacheSize', 'blockCacheThreads', 'blockCacheWriteDelay', 'readAhead', 'readAheadTrigger'] as const;

/** The in-process codec benchmark: a workload, but no row producer (no mount); runs only when --only names it. */
export const CODECS = 'codecs';

/** `server`: the --server target (s3rver or radosgw); `memory`: `--store=memory`, engine + FUSE alone. */
export const STORES = ['server', 'memory'] as const;
export type StoreKind = (typeof STORES)[number];

/** The fixed password every `--encrypt` mount gets (a benchmark secret is no secret). */
export const BENCH_PASSWORD = 'bench-password';

/** MiB per codec variant and block size when neither --mib nor BENCH_MIB is given (a run then takes about a minute). */
const CODEC_DEFAULT_MIB = 64;

export interface SmallFileSettings {
  /** Files copied in by the `files: copy` row (0.5–16 KiB each). */
  copyFiles: number;
  /** Files in the tree the `files: untar` row unpacks. */
  treeFiles: number;
  /** Seed of their sizes and contents: the same files in every run. */
  seed: number;
}

export interface BenchOptions {
  /** Bytes moved by every sequential workload (and by every ceiling); also the fio region. */
  total: number;
  blockSizes: number[];
  /** Flags given to every s3backer mount: the cache options of this run (--cacheSize is added per block size). */
  cacheArgs: string[];
  /** --cacheSize: the block cache in bytes, turned into --blockCacheSize per block size. */
  cacheBytes: number | undefined;
  /** The effective cache settings, defaults filled in, for the report (blockCacheSize: without --cacheSize). */
  cache: Record<(typeof CACHE_KEYS)[number], number>;
  /** Codec flags given to every mount (--compress, --encrypt with BENCH_PASSWORD). */
  codecArgs: string[];
  /** Row producer ids (row-producers.ts), and `codecs`. */
  workloads: string[];
  stores: StoreKind[];
  server: ServerTargetName;
  /** Seconds each fio row runs. */
  fioSeconds: number;
  smallFiles: SmallFileSettings;
  /** Bytes of plaintext per codec variant and block size: --mib (BENCH_MIB) when given, else 64 MiB. */
  codecTotal: number;
  jsonPath: string;
  /** Write the SVG chart here (only when asked: a quick run must not dirty the repository). */
  chartPath: string | undefined;
  /** Run every s3backer under `node --cpu-prof`, profiles written here and summarised. */
  cpuProfDir: string | undefined;
  /** Smoke mode: small sizes, one block size, short fio rows; figures not comparable with a full run. */
  quick: boolean;
}

export const USAGE = `usage: npm run bench -- [options]
  --server=s3rver|radosgw  the S3 server the server rows mount (default: s3rver; radosgw uses test/helpers/rgw-server.ts)
  --stores=server,memory   stores to run every workload on (default: both; memory = --store=memory, engine + FUSE alone)
  --only=dd,ext4,files,fio workloads to run (default: all four)
  --only=codecs            codec MB/s through the object pipeline vs the raw libraries, in-process (no FUSE, no root);
                           --mib per variant and block size (default 64), --cpu-prof=DIR profiles each pipeline step
  --blockSize=64k,1m       block sizes to measure (default: 64k,1m)
  --mib=N                  MiB per sequential workload and fio region (default: $BENCH_MIB or 256)
  --fio-seconds=N          seconds per fio row (default: 10)
  --files=N                small files copied by the files rows (default: 2000; the untar tree has 3x as many)
  --cacheSize=SIZE         block cache size in bytes (e.g. 64m), as --blockCacheSize=SIZE/blockSize per block size
  --compress[=ALG]         pass --compress[=ALG] to every mount
  --encrypt[=CIPHER]       pass --encrypt[=CIPHER] --password=${BENCH_PASSWORD} to every mount
  --quick                  smoke mode for CI: 16 MiB, 64k only, 2 s fio rows, 200 files; asserts nothing about speed
  --json=PATH              where to write the figures (default: bench-results.json)
  --chart=PATH             also write an SVG chart of the ratios there (e.g. docs/benchmarks.svg)
  --cpu-prof=DIR           run each s3backer under node --cpu-prof into DIR and print its top functions per step
  --blockCacheSize=N --blockCacheThreads=N --blockCacheWriteDelay=MS --readAhead=N --readAheadTrigger=N
  (and any other --blockCache* flag) are passed to every s3backer mount; default: s3backer's defaults`;

/** `64k`, `1m`, `131072`: a byte count. */
export function parseSize(text: string): number {
  const match = /^(\d+)([kmg]?)$/i.exec(text.trim());
  if (!match) throw new Error(`not a size: ${text} (examples: 64k, 1m)`);
  const unit = { '': 1, k: KiB, m: MiB, g: 1024 * MiB }[match[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(match[1]) * unit;
}

export function formatSize(bytes: number): string {
  return bytes % MiB === 0 ? `${bytes / MiB} MiB` : `${bytes / KiB} KiB`;
}

/** The --blockCacheSize a mount of this block size gets: --cacheSize turned into blocks, else the explicit or default count. */
export function cacheBlocks(options: BenchOptions, blockSize: number): number {
  return options.cacheBytes === undefined ? options.cache.blockCacheSize : Math.max(1, Math.ceil(options.cacheBytes / blockSize));
}

/** The flags every mount of this block size gets: cache and codec options. */
export function mountArgs(options: BenchOptions, blockSize: number): string[] {
  return [...options.cacheArgs, ...(options.cacheBytes === undefined ? [] : [`--blockCacheSize=${cacheBlocks(options, blockSize)}`]), ...options.codecArgs];
}

const QUICK = { mib: 16, blockSizes: [64 * KiB], fioSeconds: 2, copyFiles: 200 };

/** `producers`: the row producers' ids, and which run without --only (passed in: the producers import this module). */
export function parseBenchOptions(argv: readonly string[], env: NodeJS.ProcessEnv, producers: ReadonlyArray<{ id: string; byDefault: boolean }>): BenchOptions {
  const quick = argv.includes('--quick');
  const options: BenchOptions = {
    total: Number(env.BENCH_MIB ?? (quick ? QUICK.mib : 256)) * MiB,
    codecTotal: Number(env.BENCH_MIB ?? CODEC_DEFAULT_MIB) * MiB,
    blockSizes: quick ? [...QUICK.blockSizes] : [64 * KiB, MiB],
    cacheArgs: [],
    cacheBytes: undefined,
    cache: Object.fromEntries(CACHE_KEYS.map((key) => [key, OPTION_TABLE[key].default])) as BenchOptions['cache'],
    codecArgs: [],
    workloads: producers.filter((p) => p.byDefault).map((p) => p.id),
    stores: [...STORES],
    server: 's3rver',
    fioSeconds: quick ? QUICK.fioSeconds : 10,
    smallFiles: { copyFiles: quick ? QUICK.copyFiles : 2000, treeFiles: quick ? 3 * QUICK.copyFiles : 6000, seed: 11 },
    jsonPath: 'bench-results.json',
    chartPath: undefined,
    cpuProfDir: undefined,
    quick,
  };
  for (const arg of argv) {
    const match = /^--([A-Za-z-]+)(?:=(.*))?$/.exec(arg);
    if (!match) throw new Error(`unexpected argument ${arg}\n${USAGE}`);
    const [, name, value] = match as unknown as [string, string, string | undefined];
    const need = () => {
      if (value === undefined || value === '') throw new Error(`--${name} needs a value (--${name}=...)\n${USAGE}`);
      return value;
    };
    const list = <T extends string>(allowed: readonly T[]): T[] => {
      const picked = need().split(',');
      for (const item of picked) if (!(allowed as readonly string[]).includes(item)) throw new Error(`--${name}: unknown value ${item} (${allowed.join(', ')})`);
      return picked as T[];
    };
    if (name === 'help') throw new Error(USAGE);
    else if (name === 'quick') continue;
    else if (name === 'blockSize') options.blockSizes = need().split(',').map(parseSize);
    else if (name === 'mib') options.total = options.codecTotal = Number(need()) * MiB;
    else if (name === 'json') options.jsonPath = need();
    else if (name === 'chart') options.chartPath = need();
    else if (name === 'cpu-prof') options.cpuProfDir = need();
    else if (name === 'only') options.workloads = list([...producers.map((p) => p.id), CODECS]);
    else if (name === 'stores') options.stores = list(STORES);
    else if (name === 'server') [options.server] = list(SERVER_TARGETS);
    else if (name === 'fio-seconds') options.fioSeconds = Number(need());
    else if (name === 'files') {
      options.smallFiles.copyFiles = Number(need());
      options.smallFiles.treeFiles = 3 * options.smallFiles.copyFiles;
    } else if (name === 'cacheSize') options.cacheBytes = parseSize(need());
    else if (name === 'compress') options.codecArgs.push(value === undefined ? '--compress' : `--compress=${need()}`);
    else if (name === 'encrypt') options.codecArgs.push(value === undefined ? '--encrypt' : `--encrypt=${need()}`, `--password=${BENCH_PASSWORD}`);
    else if (name.startsWith('blockCache') || name.startsWith('readAhead')) {
      options.cacheArgs.push(arg);
      if ((CACHE_KEYS as readonly string[]).includes(name)) options.cache[name as (typeof CACHE_KEYS)[number]] = Number(need());
    } else throw new Error(`unknown option --${name}\n${USAGE}`);
  }
  if (!Number.isInteger(options.total / MiB) || options.total <= 0) throw new Error('--mib (BENCH_MIB) must be a positive whole number of MiB');
  if (!(options.fioSeconds > 0)) throw new Error('--fio-seconds must be a positive number');
  if (!Number.isInteger(options.smallFiles.copyFiles) || options.smallFiles.copyFiles <= 0) throw new Error('--files must be a positive whole number');
  if (options.cacheBytes !== undefined && options.cacheArgs.some((arg) => arg.startsWith('--blockCacheSize'))) throw new Error('give --cacheSize or --blockCacheSize, not both');
  for (const size of options.blockSizes) {
    if (size < 4 * KiB || size > 8 * MiB || (size & (size - 1)) !== 0) throw new Error(`block size ${size} must be a power of two from 4k to 8m`);
    if (options.total % size !== 0 || options.codecTotal % size !== 0) throw new Error(`--mib=${options.total / MiB} is not a whole number of ${formatSize(size)} blocks`);
  }
  return options;
}
