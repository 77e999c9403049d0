import { randomSeed } from '../../plugins/chaos/seeded-random.js';

export interface CrashLoopOptions {
  rounds: number;
  seed: number;
  /** Volume size and block size (s3backer's --size and --blockSize). */
  size: string;
  blockSize: string;
  /** --blockCacheSize, in blocks: smaller than what the writer touches, so the cache evicts. */
  cacheSize: number;
  /** Data files the writer overwrites, and their size in 4 KiB chunks. */
  files: number;
  fileChunks: number;
  /** The writer runs this long (uniform between the two, ms) before s3backer is killed. */
  minRunMs: number;
  maxRunMs: number;
  /** Share of rounds whose kill comes while s3backer is still uploading what the last crash left (recovery of a recovery). */
  recoveryKillShare: number;
  /** Pass --test-errors: the chaos store fails 1% of requests with retryable errors. */
  testErrors: boolean;
  /** Mount the ext4 with -o discard: freed blocks are trimmed down to s3backer. */
  discard: boolean;
  /** Keep the work directory (bucket, cache file, journal) at the end, even when the run passed. */
  keep: boolean;
  json: string | undefined;
}

export function defaultCrashLoopOptions(): CrashLoopOptions {
  return {
    rounds: 10, seed: randomSeed(), size: '64m', blockSize: '16k', cacheSize: 128, files: 4, fileChunks: 256,
    minRunMs: 200, maxRunMs: 2500, recoveryKillShare: 0.1, testErrors: true, discard: true, keep: false, json: undefined,
  };
}

export const CRASH_LOOP_USAGE = `usage: npm run crash-loop -- [options]    (root, /dev/fuse and loop devices needed)
  --rounds=N          kill -9 rounds (default 10), then a clean recovery and a check with a cold cache
  --seed=S            seed of the writer, kill moments and per-round settings (default: random, printed)
  --size=SIZE --blockSize=SIZE   the volume (default 64m of 16k blocks)
  --cacheSize=N       block cache size in blocks (default 128)
  --files=N --fileChunks=N       data files the writer overwrites, in 4 KiB chunks (default 4 of 256)
  --minRunMs=MS --maxRunMs=MS    how long the writer runs before the kill (default 200 to 2500)
  --recoveryKillShare=R          share of rounds killed during recovery instead (default 0.1)
  --no-testErrors     no injected store errors (default: --test-errors, 1% retryable errors)
  --no-discard        mount ext4 without -o discard
  --keep              keep the work directory (always kept when the run fails)
  --json=PATH         write the figures as JSON`;

function usageError(message: string): Error {
  return new Error(`${message}\n${CRASH_LOOP_USAGE}`);
}

export function parseCrashLoopOptions(argv: readonly string[]): CrashLoopOptions {
  const options = defaultCrashLoopOptions();
  const integer = (name: string, text: string, min: number) => {
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value < min) throw usageError(`--${name} must be an integer of at least ${min}, not ${text}`);
    return value;
  };
  for (const arg of argv) {
    const match = /^--([A-Za-z-]+)(?:=(.*))?$/.exec(arg);
    if (!match) throw usageError(`unexpected argument ${arg}`);
    const [, name, value] = match as unknown as [string, string, string | undefined];
    const need = () => {
      if (value === undefined || value === '') throw usageError(`--${name} needs a value (--${name}=...)`);
      return value;
    };
    switch (name) {
      case 'help': throw usageError('');
      case 'rounds': options.rounds = integer(name, need(), 1); break;
      case 'seed': options.seed = integer(name, need(), 0) >>> 0; break;
      case 'size': options.size = need(); break;
      case 'blockSize': options.blockSize = need(); break;
      case 'cacheSize': options.cacheSize = integer(name, need(), 1); break;
      case 'files': options.files = integer(name, need(), 1); break;
      case 'fileChunks': options.fileChunks = integer(name, need(), 1); break;
      case 'minRunMs': options.minRunMs = integer(name, need(), 0); break;
      case 'maxRunMs': options.maxRunMs = integer(name, need(), 0); break;
      case 'recoveryKillShare': {
        const share = Number(need());
        if (!(share >= 0 && share <= 1)) throw usageError(`--recoveryKillShare must be from 0 to 1, not ${value}`);
        options.recoveryKillShare = share;
        break;
      }
      case 'testErrors': options.testErrors = true; break;
      case 'no-testErrors': options.testErrors = false; break;
      case 'discard': options.discard = true; break;
      case 'no-discard': options.discard = false; break;
      case 'keep': options.keep = true; break;
      case 'json': options.json = need(); break;
      default: throw usageError(`unknown option --${name}`);
    }
  }
  if (options.maxRunMs < options.minRunMs) throw usageError('--maxRunMs must be at least --minRunMs');
  return options;
}
