import { parseArgv } from '../../src/config/parse-argv.js';
import { parseSize } from '../../src/config/parse-size.js';
import type { OptionValues } from '../../src/config/options.js';
import { randomSeed } from '../../plugins/chaos/seeded-random.js';
import { BACKEND_KINDS, type BackendKind } from './soak-backend.js';

/** What the chaos store injects, and the outages the soak starts through it. */
export interface SoakFaults {
  /** Share of requests failing with a retryable 500 / 503 / 429 (split 70 / 20 / 10: throttling answers halve the requests in flight, so they are the rarer ones). */
  errorRate: number;
  /** Share of requests failing with 403 AccessDenied, which is not retried. */
  authErrorRate: number;
  /**
   * Exponential delay before each request, mean and cap (ms). Default none: answers then come
   * within the same turn of the event loop, which interleaves the cache's steps most finely (the
   * setting that found the lost-write race fixed in plugins/block-cache/block-cache.ts).
   */
  latencyMean: number;
  latencyMax: number;
  /** Share of requests that hang for `hangMs` and then fail as timeouts. */
  hangRate: number;
  hangMs: number;
  /** Share of GETs whose body is cut short (the read must fail, never return wrong data). */
  truncateRate: number;
  /** Share of GET / HEAD / PUT answers without an ETag. */
  missingEtagRate: number;
  /** Every `outageEvery` ms, every request is refused for `outageMs` ms; 0: no outages. */
  outageEvery: number;
  outageMs: number;
}

export interface SoakOptions {
  seed: number;
  /** Operations to run; Infinity when only --minutes bounds the run. */
  ops: number;
  /** Wall-clock bound, or undefined. */
  minutes: number | undefined;
  workers: number;
  blocks: number;
  blockSize: number;
  /** Block cache size in blocks (`--blockCacheSize`); 0: no cache. */
  cacheSize: number;
  backend: BackendKind;
  /** Keep the block cache in a temporary cache file (`--blockCacheFile`) instead of memory: slower writes, the file's own code paths. */
  cacheFile: boolean;
  faults: SoakFaults;
  /** Every this many operations: stop the workers, flush, compare the store itself with the oracle; 0: never (the end still does). */
  checkpointEvery: number;
  /** Seconds between progress lines; 0: none. */
  progressEvery: number;
  /** Write the figures here as JSON. */
  json: string | undefined;
  /** Print the engine's warnings (upload retries and the like) as they come. */
  verbose: boolean;
  /** Any other s3backer option (`--blockCacheWriteDelay=5`, `--compress=zstd`), parsed by s3backer's own parser. */
  s3backer: Partial<OptionValues>;
}

/** s3backer settings of the soak, unless given: a busy small cache, fast retries, short attempt timeouts. */
export const SOAK_S3BACKER_DEFAULTS: Partial<OptionValues> = {
  blockCacheWriteDelay: 10,
  blockCacheThreads: 8,
  readAhead: 2,
  initialRetryPause: 20,
  maxRetryPause: 3000,
  timeout: 3,
  shutdownTimeout: 60,
};

export const DEFAULT_FAULTS: SoakFaults = {
  errorRate: 0.02, authErrorRate: 0, latencyMean: 0, latencyMax: 0, hangRate: 0.0005, hangMs: 500,
  truncateRate: 0.002, missingEtagRate: 0.001, outageEvery: 7000, outageMs: 400,
};

export function defaultSoakOptions(): SoakOptions {
  return {
    seed: randomSeed(), ops: 100_000, minutes: undefined, workers: 16, blocks: 256, blockSize: 4096, cacheSize: 24,
    backend: 'memory', cacheFile: false, faults: { ...DEFAULT_FAULTS }, checkpointEvery: 20_000, progressEvery: 5, json: undefined, verbose: false, s3backer: {},
  };
}

export const SOAK_USAGE = `usage: npm run soak -- [options] [s3backer options]
  --ops=N              operations to run (default 100000; with --minutes alone: until the time is up)
  --minutes=N          stop after N minutes (whichever of --ops and --minutes comes first)
  --seed=S             seed of the workers' operations, the data and the chaos store (default: random, printed)
  --workers=N          concurrent workers (default 16)
  --blocks=N           blocks in the volume (default 256)
  --blockSize=SIZE     block size (default 4k)
  --cacheSize=N        block cache size in blocks, 0 for none (default 24: far smaller than the volume, so it evicts)
  --backend=memory|dir the store under the chaos store (default memory; dir: a temporary directory)
  --cacheFile          keep the block cache in a temporary cache file (--blockCacheFile) instead of memory
  --checkpointEvery=N  every N operations stop, flush and compare the store with the oracle (default 20000; 0 never)
  --progressEvery=S    seconds between progress lines (default 5; 0 none)
  --json=PATH          write the figures as JSON
  --verbose            print the engine's warnings as they come
faults (chaos store; rates are shares of requests, 0 to 1):
  --errorRate=R        retryable 500/503/429 (default ${DEFAULT_FAULTS.errorRate})
  --authErrorRate=R    403, not retried (default ${DEFAULT_FAULTS.authErrorRate})
  --latencyMean=MS --latencyMax=MS   exponential delay per request (default none: answers at once, the finest interleaving)
  --hangRate=R --hangMs=MS           requests that hang, then time out (default ${DEFAULT_FAULTS.hangRate}, ${DEFAULT_FAULTS.hangMs} ms)
  --truncateRate=R     GET bodies cut short (default ${DEFAULT_FAULTS.truncateRate})
  --missingEtagRate=R  answers without an ETag (default ${DEFAULT_FAULTS.missingEtagRate})
  --outageEvery=MS --outageMs=MS     refuse every request for outageMs every outageEvery (default ${DEFAULT_FAULTS.outageMs} ms every ${DEFAULT_FAULTS.outageEvery} ms; 0 none)
Any s3backer flag is passed to the engine, e.g. --blockCacheWriteDelay=0 --compress=zstd --timeout=5
(soak defaults: ${Object.entries(SOAK_S3BACKER_DEFAULTS).map(([k, v]) => `--${k}=${String(v)}`).join(' ')}).`;

const FAULT_KEYS = Object.keys(DEFAULT_FAULTS) as Array<keyof SoakFaults>;
const RATE_KEYS: ReadonlyArray<keyof SoakFaults> = ['errorRate', 'authErrorRate', 'hangRate', 'truncateRate', 'missingEtagRate'];

function usageError(message: string): Error {
  return new Error(`${message}\n${SOAK_USAGE}`);
}

function count(name: string, text: string, min: number): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min) throw usageError(`--${name} must be an integer of at least ${min}, not ${text}`);
  return value;
}

function number(name: string, text: string, max = Infinity): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || value > max) throw usageError(`--${name} must be a number from 0${max === Infinity ? '' : ` to ${max}`}, not ${text}`);
  return value;
}

/** Parse the soak's flags; every flag it does not know goes to s3backer's own parser. */
export function parseSoakOptions(argv: readonly string[]): SoakOptions {
  const options = defaultSoakOptions();
  let opsGiven = false;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const match = /^--([A-Za-z]+)(?:=(.*))?$/.exec(arg);
    if (!match) {
      rest.push(arg);
      continue;
    }
    const name = match[1]!;
    const value = () => {
      if (match[2] !== undefined) return match[2];
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) throw usageError(`--${name} needs a value`);
      i++;
      return next;
    };
    if (name === 'help') throw usageError('');
    else if (name === 'ops') { options.ops = count(name, value(), 1); opsGiven = true; }
    else if (name === 'minutes') options.minutes = number(name, value());
    else if (name === 'seed') options.seed = count(name, value(), 0) >>> 0;
    else if (name === 'workers') options.workers = count(name, value(), 1);
    else if (name === 'blocks') options.blocks = count(name, value(), 8);
    else if (name === 'blockSize') {
      const text = value();
      const size = parseSize(text);
      if (size === undefined || size < 512 || (size & (size - 1)) !== 0) throw usageError(`--blockSize must be a power of two of at least 512 (4k, 64k), not ${text}`);
      options.blockSize = size;
    } else if (name === 'cacheSize') options.cacheSize = count(name, value(), 0);
    else if (name === 'backend') {
      const kind = value();
      if (!(BACKEND_KINDS as readonly string[]).includes(kind)) throw usageError(`--backend must be one of ${BACKEND_KINDS.join(', ')}, not ${kind}`);
      options.backend = kind as BackendKind;
    } else if (name === 'checkpointEvery') options.checkpointEvery = count(name, value(), 0);
    else if (name === 'progressEvery') options.progressEvery = number(name, value());
    else if (name === 'json') options.json = value();
    else if (name === 'verbose') options.verbose = true;
    else if (name === 'cacheFile') options.cacheFile = true;
    else if ((FAULT_KEYS as string[]).includes(name)) {
      const key = name as keyof SoakFaults;
      options.faults[key] = number(name, value(), RATE_KEYS.includes(key) ? 1 : Infinity);
    } else rest.push(arg);
  }
  if (options.minutes !== undefined && !opsGiven) options.ops = Infinity;
  let parsed;
  try {
    parsed = parseArgv(rest);
  } catch (error) {
    throw usageError(`${error instanceof Error ? error.message : String(error)} (the soak passes flags it does not know to s3backer's parser)`);
  }
  if (parsed.positionals.length > 0) throw usageError(`unexpected argument ${parsed.positionals[0]}`);
  options.s3backer = parsed.options as Partial<OptionValues>;
  checkSoakOptions(options);
  return options;
}

/** Combinations that would make the soak test something other than the engine. */
export function checkSoakOptions(options: SoakOptions): void {
  const { faults } = options;
  if (faults.errorRate + faults.authErrorRate > 1) throw usageError('--errorRate and --authErrorRate add up to more than 1');
  if (faults.latencyMax < faults.latencyMean) throw usageError('--latencyMax must be at least --latencyMean');
  // A request delayed past the retry layer's attempt timeout is abandoned but still reaches the
  // store afterwards (the chaos store delays before forwarding), possibly after a newer write of
  // the same block: the soak would then measure that race, which a real network has too, not the engine.
  const timeoutMs = 1000 * Number(options.s3backer.timeout ?? SOAK_S3BACKER_DEFAULTS.timeout);
  if (faults.latencyMax * 2 >= timeoutMs) throw usageError(`--latencyMax (${faults.latencyMax} ms) must stay under half of --timeout (${timeoutMs} ms)`);
  if (options.blocks < 8) throw usageError('--blocks must be at least 8');
}
