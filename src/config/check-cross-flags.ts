import { optionSpec, type OptionKey } from './options.js';
import { S3BackerError } from '../errors/s3backer-error.js';

/**
 * The checks of the C tool's `validate_config` (s3b_config.c) that concern more than one option, on
 * the merged options (command line over config file over defaults). `given` holds the options set
 * explicitly (on the command line or in the config file), for the checks that are about a flag
 * being used at all. Where the C tool accepts a flag and then ignores it, we refuse it instead: a
 * flag that silently does nothing hides a mistake.
 */
export function checkCrossFlags(merged: Readonly<Record<string, unknown>>, _given: ReadonlySet<OptionKey>): void {
  checkRetryPauses(merged);
  checkCredentialFlags(merged);
  checkBlockCacheFlags(merged);
  checkCodecFlags(merged);
}

function fail(message: string): never {
  throw new S3BackerError('S3B_CONFIG_INVALID', message);
}

function flag(key: OptionKey): string {
  return '--' + optionSpec(key).flag;
}

function checkRetryPauses(merged: Readonly<Record<string, unknown>>): void {
  const initial = merged.initialRetryPause as number;
  const max = merged.maxRetryPause as number;
  if (initial > max) fail(`--initialRetryPause=${initial} is larger than --maxRetryPause=${max}; lower the first or raise the second`);
}

function checkCredentialFlags(merged: Readonly<Record<string, unknown>>): void {
  if (merged.accessKey !== undefined && merged.accessKeyEnv !== undefined) {
    fail('--accessKey and --accessKeyEnv cannot both be given; keep only one source of the secret key');
  }
}

function checkBlockCacheFlags(merged: Readonly<Record<string, unknown>>): void {
  if (merged.blockCacheSync === true && merged.blockCacheWriteDelay !== 0) {
    fail(`--blockCacheSync needs --blockCacheWriteDelay=0 (it is ${String(merged.blockCacheWriteDelay)}); add --blockCacheWriteDelay=0 or drop --blockCacheSync`);
  }
  const cacheFileFlags = (['blockCacheNoVerify', 'blockCacheRecoverDirtyBlocks'] as const).filter((key) => merged[key] === true);
  if (cacheFileFlags.length > 0 && merged.blockCacheFile === undefined) {
    fail(`${flag(cacheFileFlags[0]!)} needs --blockCacheFile=FILE; add the cache file or drop the flag`);
  }
  if (merged.blockCacheFile !== undefined && merged.blockCacheSize === 0) {
    fail('--blockCacheFile needs a block cache, but --blockCacheSize=0 disables it; give a cache size or drop the cache file');
  }
}

/**
 * The C tool only warns about encryption flags without --encrypt (s3b_config.c); an option that is
 * parsed and then ignored hides a mistake (a forgotten --encrypt writes plain blocks), so we refuse.
 */
function checkCodecFlags(merged: Readonly<Record<string, unknown>>): void {
  if (merged.password !== undefined && merged.passwordFile !== undefined) {
    fail('--password and --passwordFile cannot both be given; keep only one source of the password');
  }
  if (merged.encrypt === undefined) {
    const stray = (['password', 'passwordFile', 'keyLength'] as const).find((key) => merged[key] !== undefined);
    if (stray !== undefined) {
      fail(`${flag(stray)} only applies to an encrypted volume, and --encrypt was not given; add --encrypt or drop ${flag(stray)}`);
    }
  }
  if (merged.compressLevel !== undefined && merged.compress === undefined && merged.encrypt === undefined) {
    fail('--compress-level needs --compress (or --encrypt, which compresses with deflate); add --compress=ALG or drop the level');
  }
  if (merged.compressLevel !== undefined && /^-?\d+$/.test(String(merged.compress))) {
    fail(`--compress=${String(merged.compress)} already gives the deflate level; drop --compress-level or write --compress=deflate`);
  }
}
