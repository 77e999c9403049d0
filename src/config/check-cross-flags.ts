import { optionSpec, type OptionKey } from './options.js';
import { S3BackerError } from '../errors/s3backer-error.js';

/**
 * The flags that `--sharedDiskMode` forbids, as the C tool's s3b_config.c lists them (its
 * `s3backer_get_config`, before fuse_opt_parse): every cache setting, the block survey and the MD5
 * cache. Other hosts write the same blocks, so nothing may be cached; the C tool refuses any of these
 * flags, even given with its default value, and so do we.
 */
export const SHARED_DISK_FORBIDDEN: readonly OptionKey[] = Object.freeze([
  'listBlocks', 'listBlocksThreads', 'blockCacheSize', 'blockCacheSync', 'blockCacheThreads', 'blockCacheTimeout',
  'blockCacheWriteDelay', 'blockCacheMaxDirty', 'blockCacheRecoverDirtyBlocks', 'readAhead', 'readAheadTrigger',
  'blockCacheNumProtected', 'blockCacheFile', 'blockCacheNoVerify', 'blockCacheFileAdvise', 'minWriteDelay',
  'md5CacheSize', 'md5CacheTime',
] satisfies OptionKey[]);

/**
 * The checks of the C tool's `validate_config` (s3b_config.c) that concern more than one option, on
 * the merged options (command line over config file over defaults). `given` holds the options set
 * explicitly (on the command line or in the config file), for the checks that are about a flag
 * being used at all. Where the C tool accepts a flag and then ignores it, we refuse it instead: a
 * flag that silently does nothing hides a mistake.
 */
export function checkCrossFlags(merged: Readonly<Record<string, unknown>>, given: ReadonlySet<OptionKey>): void {
  checkRetryPauses(merged);
  checkCredentialFlags(merged);
  checkSharedDiskMode(merged, given);
  checkMd5Cache(merged);
  checkBlockCacheFlags(merged);
  checkTlsFlags(merged);
  checkServerSideEncryption(merged);
  checkCompanionFlags(merged, given);
  checkCodecFlags(merged);
  checkNbdFlags(merged, given);
}

/** The FUSE directory's options, which mean nothing to an NBD export. */
const FUSE_ONLY: readonly OptionKey[] = Object.freeze(['filename', 'fileMode', 'statsFilename', 'directIO'] satisfies OptionKey[]);

function checkNbdFlags(merged: Readonly<Record<string, unknown>>, given: ReadonlySet<OptionKey>): void {
  const nbd = merged.nbd === true ? '--nbd' : merged.nbdListen !== undefined ? '--nbd-listen' : undefined;
  const cert = merged.nbdTlsCert !== undefined;
  const key = merged.nbdTlsKey !== undefined;
  if ((cert || key) && merged.nbdListen === undefined) {
    fail(`${flag(cert ? 'nbdTlsCert' : 'nbdTlsKey')} is for an NBD export served with --nbd-listen${merged.nbd === true ? ' (--nbd serves nbd-client on a private Unix socket, where TLS adds nothing)' : ''}; drop it or add --nbd-listen=ADDRESS`);
  }
  if (cert !== key) fail(`${flag(cert ? 'nbdTlsCert' : 'nbdTlsKey')} needs ${flag(cert ? 'nbdTlsKey' : 'nbdTlsCert')} too: TLS needs both the certificate and its private key`);
  if (nbd === undefined) return;
  // The C tool adds no FUSE defaults in NBD mode and has no file to name; a flag that does nothing hides a mistake.
  const fuseOnly = FUSE_ONLY.filter((option) => given.has(option));
  if (fuseOnly.length > 0) fail(`${fuseOnly.map(flag).join(', ')} ${fuseOnly.length === 1 ? 'is' : 'are'} for the FUSE mount and mean nothing with ${nbd}; drop ${fuseOnly.length === 1 ? 'it' : 'them'}`);
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
  // validate_config refuses an access key ID next to an IAM role (it also reads one from the access
  // file; an empty --accessId is no ID there); a key or key variable would be ignored, so it is refused too.
  if (merged.accessEC2IAM !== undefined) {
    const stray = (['accessId', 'accessKey', 'accessKeyEnv', 'accessFile'] as const)
      .find((key) => merged[key] !== undefined && !(key === 'accessId' && merged[key] === ''));
    if (stray !== undefined) {
      fail(`--accessEC2IAM takes the credentials from the EC2 instance metadata, so ${flag(stray)} cannot be given too; drop ${flag(stray)} or --accessEC2IAM`);
    }
  } else if (merged.accessEC2IAMv2 === true) {
    fail('--accessEC2IAM-IMDSv2 only applies with --accessEC2IAM=ROLE; add the role or drop --accessEC2IAM-IMDSv2');
  }
}

function checkSharedDiskMode(merged: Readonly<Record<string, unknown>>, given: ReadonlySet<OptionKey>): void {
  if (merged.sharedDiskMode !== true) return;
  if (given.has('blockCacheFile')) {
    fail('--sharedDiskMode cannot be combined with --blockCacheFile: other hosts write the same blocks, so no cache (in memory or in a file) may keep them; drop --blockCacheFile');
  }
  const forbidden = SHARED_DISK_FORBIDDEN.find((key) => given.has(key));
  if (forbidden !== undefined) {
    fail(`${flag(forbidden)} cannot be used with --sharedDiskMode, which turns every cache, the block survey and the MD5 cache off (as the C tool does); drop ${flag(forbidden)}`);
  }
  // The C tool forces direct_io on in shared-disk mode: the kernel's page cache is a cache too.
  if (merged.directIO === false && given.has('directIO')) {
    fail('--sharedDiskMode always bypasses the page cache (--directIO), so --directIO=false cannot be given with it; drop --directIO=false');
  }
}

/**
 * As validate_config: the MD5 cache's times need the cache, and an ETag must be remembered at least
 * as long as the wait between two writes of its block. Read-only mounts skip this: there the C tool
 * turns the MD5 cache off, as nothing is written, and so do we (the flags' docs say it has no effect).
 * Shared-disk mode refuses the MD5 flags outright (checkSharedDiskMode). The check that needs the
 * volume's block count ("eventual deadlock") can only run at mount.
 */
function checkMd5Cache(merged: Readonly<Record<string, unknown>>): void {
  if (merged.readOnly === true) return;
  const size = merged.md5CacheSize as number;
  const time = merged.md5CacheTime as number;
  const delay = merged.minWriteDelay as number;
  if (size === 0) {
    if (time > 0) fail(`--md5CacheTime=${time} needs the MD5 cache, but --md5CacheSize is 0 (disabled); add --md5CacheSize=N or drop --md5CacheTime`);
    if (delay > 0) fail(`--minWriteDelay=${delay} needs the MD5 cache, but --md5CacheSize is 0 (disabled); add --md5CacheSize=N or drop --minWriteDelay`);
  }
  if (time > 0 && delay > 0 && time < delay) {
    fail(`--md5CacheTime=${time} is shorter than --minWriteDelay=${delay}: a block's ETag would be forgotten before its next write may start; raise --md5CacheTime to at least ${delay} (or 0: until evicted) or lower --minWriteDelay`);
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

/** Certificate options mean nothing over plain http (the default endpoint is https: plugins/s3/s3-store-options.ts). */
function checkTlsFlags(merged: Readonly<Record<string, unknown>>): void {
  const baseURL = merged.baseURL as string | undefined;
  if (baseURL === undefined || /^https:\/\//i.test(baseURL)) return;
  const stray = merged.insecure === true ? '--insecure' : merged.cacert !== undefined ? '--cacert' : undefined;
  if (stray !== undefined) {
    fail(`${stray} only applies to https endpoints, but --baseURL is ${baseURL}; use an https:// --baseURL or drop ${stray}`);
  }
}

/** validate_config requires the key with aws:kms; a key without aws:kms would be ignored, so it is refused. */
function checkServerSideEncryption(merged: Readonly<Record<string, unknown>>): void {
  if (merged.sse === 'aws:kms' && merged.sseKeyId === undefined) {
    fail('--sse=aws:kms needs the KMS key to encrypt with; add --sse-key-id=ID (or use --sse=AES256)');
  }
  if (merged.sseKeyId !== undefined && merged.sse !== 'aws:kms') {
    fail(`--sse-key-id only applies with --sse=aws:kms (${merged.sse === undefined ? '--sse was not given' : `--sse is ${String(merged.sse)}`}); add --sse=aws:kms or drop --sse-key-id`);
  }
}

/** A setting of a feature that is off would be ignored: refuse it. */
function checkCompanionFlags(merged: Readonly<Record<string, unknown>>, given: ReadonlySet<OptionKey>): void {
  const companions: Array<[setting: OptionKey, feature: OptionKey, enable: string]> = [
    ['listBlocksThreads', 'listBlocks', '--listBlocks'],
    ['statsFileMirrorInterval', 'statsFileMirror', '--statsFileMirror=FILE'],
  ];
  for (const [setting, feature, enable] of companions) {
    const on = merged[feature] !== undefined && merged[feature] !== false && merged[feature] !== '';
    if (given.has(setting) && !on) fail(`${flag(setting)} only applies with ${flag(feature)}; add ${enable} or drop ${flag(setting)}`);
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
