// The benchmark's command line: `npm run bench -- [--blockSize=64k,1m] [--mib=N] [--json=PATH]
// [--cpu-prof=DIR] [--only=...] [--blockCache*=... --readAhead*=...]`. BENCH_MIB sets the default of --mib.
// `codecs` is in-process (no mount, no root) and runs only when --only names it.
import { OPTION_TABLE } from '../../src/config/options.js';

export const KiB = 1024;
export const MiB = 1024 * KiB;

/** The s3backer cache options a run may set; the rest are passed through unchanged too. */
const CACHE_KEYS = ['blockCacheSize', 'blockCacheThreads', 'blockCacheWriteDelay', 'readAhead', 'readAheadTrigger'] as const;

export const WORKLOADS = ['memory', 'dd', 'ext4', 'codecs'] as const;
export type Workload = (typeof WORKLOADS)[number];
/** What runs without --only: the workloads through real mounts. */
export const DEFAULT_WORKLOADS: readonly Workload[] = ['memory', 'dd', 'ext4'];
/** MiB per codec variant and block size when neither --mib nor BENCH_MIB is given (a run then takes about a minute). */
const CODEC_DEFAULT_MIB = 64;

export interface BenchOptions {
  /** Bytes moved by every workload (and by every ceiling). */
  total: number;
  blockSizes: number[];
  /** Flags given to every s3backer mount (the cache options of this run). */
  cacheArgs: string[];
  /** The effective cache settings, defaults filled in, for the report. */
  cache: Record<(typeof CACHE_KEYS)[number], number>;
  workloads: Workload[];
  /** Bytes of plaintext per codec variant and block size: --mib (BENCH_MIB) when given, else 64 MiB. */
  codecTotal: number;
  jsonPath: string;
  /** Run every s3backer under `node --cpu-prof`, profiles written here and summarised. */
  cpuProfDir: string | undefined;
}

export const USAGE = `usage: npm run bench -- [options]
  --blockSize=64k,1m     block sizes to measure (default: 64k,1m)
  --mib=N                MiB per workload (default: $BENCH_MIB or 256)
  --only=memory,dd,ext4  workloads to run (default: memory,dd,ext4)
  --only=codecs          codec MB/s through the object pipeline vs the raw libraries, in-process (no FUSE, no root);
                         --mib per variant and block size (default 64), --cpu-prof=DIR profiles each pipeline step
  --json=PATH            where to write the figures (default: bench-results.json)
  --cpu-prof=DIR         run each s3backer under node --cpu-prof into DIR and print its top functions
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

export function parseBenchOptions(argv: readonly string[], env: NodeJS.ProcessEnv): BenchOptions {
  const options: BenchOptions = {
    total: Number(env.BENCH_MIB ?? 256) * MiB,
    codecTotal: Number(env.BENCH_MIB ?? CODEC_DEFAULT_MIB) * MiB,
    blockSizes: [64 * KiB, MiB],
    cacheArgs: [],
    cache: Object.fromEntries(CACHE_KEYS.map((key) => [key, OPTION_TABLE[key].default])) as BenchOptions['cache'],
    workloads: [...DEFAULT_WORKLOADS],
    jsonPath: 'bench-results.json',
    cpuProfDir: undefined,
  };
  for (const arg of argv) {
    const match = /^--([A-Za-z-]+)(?:=(.*))?$/.exec(arg);
    if (!match) throw new Error(`unexpected argument ${arg}\n${USAGE}`);
    const [, name, value] = match as unknown as [string, string, string | undefined];
    const need = () => {
      if (value === undefined || value === '') throw new Error(`--${name} needs a value (--${name}=...)\n${USAGE}`);
      return value;
    };
    if (name === 'help') throw new Error(USAGE);
    else if (name === 'blockSize') options.blockSizes = need().split(',').map(parseSize);
    else if (name === 'mib') options.total = options.codecTotal = Number(need()) * MiB;
    else if (name === 'json') options.jsonPath = need();
    else if (name === 'cpu-prof') options.cpuProfDir = need();
    else if (name === 'only') {
      const picked = need().split(',');
      for (const workload of picked) if (!(WORKLOADS as readonly string[]).includes(workload)) throw new Error(`--only: unknown workload ${workload} (${WORKLOADS.join(', ')})`);
      options.workloads = picked as Workload[];
    } else if (name.startsWith('blockCache') || name.startsWith('readAhead')) {
      options.cacheArgs.push(arg);
      if ((CACHE_KEYS as readonly string[]).includes(name)) options.cache[name as (typeof CACHE_KEYS)[number]] = Number(need());
    } else throw new Error(`unknown option --${name}\n${USAGE}`);
  }
  if (!Number.isInteger(options.total / MiB) || options.total <= 0) throw new Error('--mib (BENCH_MIB) must be a positive whole number of MiB');
  for (const size of options.blockSizes) {
    if (size < 4 * KiB || size > 8 * MiB || (size & (size - 1)) !== 0) throw new Error(`block size ${size} must be a power of two from 4k to 8m`);
    if (options.total % size !== 0 || options.codecTotal % size !== 0) throw new Error(`--mib=${options.total / MiB} is not a whole number of ${formatSize(size)} blocks`);
  }
  return options;
}
