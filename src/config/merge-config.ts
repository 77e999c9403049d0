import { resolve } from 'node:path';
import { OPTION_KEYS, OPTION_TABLE, optionSpec, checkOptionValue, type OptionKey } from './options.js';
import { parseSize } from './parse-size.js';
import { closestName } from './closest-name.js';
import type { ParsedCommandLine } from './parse-argv.js';
import type { UserConfig } from './define-config.js';
import type { ResolvedConfig } from './resolved-config.js';
import type { S3BackerPlugin } from '../engine/plugin.js';
import { S3BackerError } from '../errors/s3backer-error.js';

export type CommandName = 'mount' | 'erase' | 'reset-mounted-flag' | 'help' | 'version';

export interface ResolveConfigInput {
  cli: ParsedCommandLine;
  /** The config file's export (load-config-file.ts), or null when there is none. */
  file: UserConfig | null;
  /** For messages: where `file` came from. */
  filePath?: string;
  /** Base for a relative `--test` directory and mount point; defaults to process.cwd(). */
  cwd?: string;
}

export interface ResolvedCommandLine {
  config: ResolvedConfig;
  /** `-o` items for FUSE (fuse-passthrough-options.ts), in command-line order. */
  fuseOptions: readonly string[];
  command: CommandName;
}

export const USAGE = Object.freeze({
  mount: 's3backer [options] bucket[/subdir] mountpoint',
  erase: 's3backer --erase [options] bucket[/subdir]',
  'reset-mounted-flag': 's3backer --reset-mounted-flag [options] bucket[/subdir]',
});

/** Keys a config file may hold besides the options. */
const EXTRA_FILE_KEYS = ['bucket', 'mountPoint', 'plugins'] as const;

/** Which command the command line asks for; --help and --version win over everything (they never fail). */
export function detectCommand(cli: ParsedCommandLine): CommandName {
  if (cli.options.help === true) return 'help';
  if (cli.options.version === true) return 'version';
  if (cli.options.erase === true && cli.options.resetMountedFlag === true) {
    throw new S3BackerError('S3B_CONFIG_INVALID', '--erase and --reset-mounted-flag cannot be combined; run them one after the other');
  }
  if (cli.options.erase === true) return 'erase';
  if (cli.options.resetMountedFlag === true) return 'reset-mounted-flag';
  return 'mount';
}

/**
 * Command line + config file + defaults → the frozen ResolvedConfig (vite's resolveConfig). Per key:
 * `cli ?? file ?? default` (null/undefined never override, as in vite's mergeConfig). The file is
 * validated key by key; positionals follow the C tool (s3b_config.c); cross-flag checks from its
 * `validate_config` apply.
 */
export function resolveConfig(input: ResolveConfigInput): ResolvedCommandLine {
  const { cli } = input;
  const cwd = input.cwd ?? process.cwd();
  const command = detectCommand(cli);
  // --help and --version must work whatever the config file or the rest of the command line says.
  const info = command === 'help' || command === 'version';
  const file: ValidatedFile = info ? { options: {}, plugins: [] } : validateFile(input.file ?? {}, input.filePath);

  const merged: Record<string, unknown> = {};
  for (const key of OPTION_KEYS) {
    const spec = optionSpec(key);
    const value = cli.options[key] ?? (spec.cliOnly ? undefined : file.options[key]) ?? spec.default;
    if (value !== undefined) merged[key] = value;
  }
  // As in the C tool (s3b_config.c): --fileMode defaults to 0600, or 0400 with --readOnly.
  merged.fileMode ??= merged.readOnly === true ? 0o400 : 0o600;

  if (merged.test === true) {
    // --test is the C tool's spelling of the directory store (test_io.c).
    const explicitStore = cli.options.store ?? file.options.store;
    if (explicitStore !== undefined && explicitStore !== 'dir') {
      throw new S3BackerError('S3B_CONFIG_INVALID', `--test means --store=dir, but --store=${String(explicitStore)} was also given; drop one of them`);
    }
    merged.store = 'dir';
  }

  let bucket = '';
  let mountPoint: string | undefined;
  if (!info) {
    ({ bucket, mountPoint } = resolvePositionals(cli, file, command, merged, cwd));
    checkCrossFlags(merged);
  } else if (cli.positionals[0] !== undefined) {
    bucket = cli.positionals[0];
  }

  const config = {
    ...merged,
    bucket,
    ...(mountPoint === undefined ? {} : { mountPoint }),
    // The array is frozen; plugin objects are not: they belong to their authors and may keep state.
    plugins: Object.freeze(file.plugins),
  } as unknown as ResolvedConfig;
  return Object.freeze({
    config: Object.freeze(config),
    fuseOptions: Object.freeze([...cli.fuseOptions]),
    command,
  });
}

interface ValidatedFile {
  options: Partial<Record<OptionKey, unknown>>;
  bucket?: string;
  mountPoint?: string;
  plugins: S3BackerPlugin[];
}

/** Every key of the config file checked against OPTION_TABLE, sizes given as strings parsed. */
function validateFile(file: UserConfig, filePath: string | undefined): ValidatedFile {
  const where = filePath === undefined ? 'the config file' : `config file "${filePath}"`;
  const result: ValidatedFile = { options: {}, plugins: [] };
  const validKeys = [...OPTION_KEYS.filter((key) => !optionSpec(key).cliOnly), ...EXTRA_FILE_KEYS];
  for (const [name, value] of Object.entries(file)) {
    if (value === undefined || value === null) continue;
    if (name === 'bucket' || name === 'mountPoint') {
      if (typeof value !== 'string') throw invalid(where, name, 'must be a string');
      result[name] = value;
      continue;
    }
    if (name === 'plugins') {
      result.plugins = validatePlugins(value, where);
      continue;
    }
    if (!Object.hasOwn(OPTION_TABLE, name)) {
      const suggestion = closestName(name, validKeys);
      throw new S3BackerError('S3B_CONFIG_UNKNOWN_OPTION', `unknown key "${name}" in ${where}; ` +
        (suggestion !== undefined ? `did you mean "${suggestion}"?` : 'see docs/config.md for the valid keys'));
    }
    const key = name as OptionKey;
    const spec = optionSpec(key);
    if (spec.cliOnly) {
      throw new S3BackerError('S3B_CONFIG_UNKNOWN_OPTION', `"${name}" cannot be set in ${where}: it is a command-line flag only; ` +
        `pass --${spec.flag} on the command line instead`);
    }
    let typed: unknown = value;
    if (spec.type === 'size' && typeof value === 'string') {
      typed = parseSize(value);
      if (typed === undefined) throw invalid(where, name, `"${value}" is not a size (an integer with an optional k, m, g or t suffix)`);
    }
    const problem = checkOptionValue(spec, typed);
    if (problem !== undefined) throw invalid(where, name, problem);
    result.options[key] = typed;
  }
  return result;
}

/** `plugins`: skip `false`/`null`/`undefined` and `[plugin, false]`, keep the order (unified). */
function validatePlugins(value: unknown, where: string): S3BackerPlugin[] {
  if (!Array.isArray(value)) throw invalid(where, 'plugins', 'must be an array of plugins');
  const plugins: S3BackerPlugin[] = [];
  value.forEach((entry: unknown, index) => {
    if (entry === false || entry === null || entry === undefined) return;
    let plugin = entry;
    if (Array.isArray(entry)) {
      if (entry.length !== 2 || typeof entry[1] !== 'boolean') {
        throw invalid(where, `plugins[${index}]`, 'must be a plugin or [plugin, true|false]');
      }
      if (!entry[1]) return;
      plugin = entry[0];
    }
    if (!isPlugin(plugin)) {
      throw invalid(where, `plugins[${index}]`, 'is not a plugin (an object with a string `name` and an `apply(engine)` function)');
    }
    plugins.push(plugin);
  });
  return plugins;
}

function isPlugin(value: unknown): value is S3BackerPlugin {
  return typeof value === 'object' && value !== null &&
    typeof (value as { name?: unknown }).name === 'string' && typeof (value as { apply?: unknown }).apply === 'function';
}

/**
 * As in the C tool (s3b_config.c): `bucket[/subdir]` then the mount point; `--erase` and
 * `--reset-mounted-flag` take the bucket only; with `--test` (or `--store=dir`) the first argument is a directory. The file may supply either one instead.
 */
function resolvePositionals(cli: ParsedCommandLine, file: ValidatedFile, command: 'mount' | 'erase' | 'reset-mounted-flag',
  merged: Record<string, unknown>, cwd: string): { bucket: string; mountPoint?: string } {
  const usage = `usage: ${USAGE[command]}; see --help`;
  const positionals = cli.positionals;
  const maxPositionals = command === 'mount' ? 2 : 1;
  if (positionals.length > maxPositionals) {
    const extra = positionals.slice(maxPositionals).map((p) => `"${p}"`).join(' ');
    throw new S3BackerError('S3B_USAGE', command === 'mount'
      ? `too many arguments: ${extra}; ${usage}`
      : `--${command} takes no mount point (got ${extra}); ${usage}`);
  }
  const bucketText = positionals[0] ?? file.bucket;
  if (bucketText === undefined) {
    throw new S3BackerError('S3B_USAGE', `missing ${merged.store === 'dir' ? 'directory' : 'bucket'}; ${usage}`);
  }
  let bucket: string;
  if (merged.store === 'dir') {
    // --test / --store=dir: a directory path contains slashes, so no bucket/subdir split (as with the
    // C tool's --test, s3b_config.c).
    // Absolute, because a background daemon no longer runs in the current directory.
    if (bucketText === '') throw new S3BackerError('S3B_USAGE', `the directory argument may not be empty; ${usage}`);
    bucket = resolve(cwd, bucketText);
  } else {
    bucket = splitBucket(bucketText, merged, cli, file);
  }
  if (command !== 'mount') return { bucket };
  const mountPointText = positionals[1] ?? file.mountPoint;
  if (mountPointText === undefined || mountPointText === '') {
    throw new S3BackerError('S3B_USAGE', `missing mount point; ${usage}`);
  }
  return { bucket, mountPoint: resolve(cwd, mountPointText) };
}

/** `bucket/subdir` means `--prefix=subdir/`; the subdir is checked strictly, as the C tool's s3b_config.c does. */
function splitBucket(text: string, merged: Record<string, unknown>, cli: ParsedCommandLine, file: ValidatedFile): string {
  if (text === '' || text.startsWith('/')) {
    throw new S3BackerError('S3B_CONFIG_INVALID', `invalid bucket "${text}": the bucket name may not be empty or start with "/"; write bucket or bucket/subdir`);
  }
  const slash = text.indexOf('/');
  if (slash < 0) return text;
  const bucket = text.slice(0, slash);
  const subdir = text.slice(slash + 1);
  if (subdir === '' || subdir.startsWith('/') || subdir.endsWith('/') || subdir.includes('//')) {
    throw new S3BackerError('S3B_CONFIG_INVALID', `invalid subdirectory in "${text}": it must be non-empty, without leading, trailing or double slashes; ` +
      'write bucket/dir or bucket/dir/subdir');
  }
  const explicitPrefix = cli.options.prefix ?? file.options.prefix;
  if (typeof explicitPrefix === 'string' && explicitPrefix !== '') {
    throw new S3BackerError('S3B_CONFIG_INVALID', `"${text}" sets the prefix "${subdir}/", but --prefix=${explicitPrefix} was also given; use one or the other`);
  }
  merged.prefix = subdir + '/';
  return bucket;
}

/** The checks of the C tool's validate_config (s3b_config.c) that concern our options. */
function checkCrossFlags(merged: Record<string, unknown>): void {
  const initial = merged.initialRetryPause as number;
  const max = merged.maxRetryPause as number;
  if (initial > max) {
    throw new S3BackerError('S3B_CONFIG_INVALID', `--initialRetryPause=${initial} is larger than --maxRetryPause=${max}; lower the first or raise the second`);
  }
  if (merged.accessKey !== undefined && merged.accessKeyEnv !== undefined) {
    throw new S3BackerError('S3B_CONFIG_INVALID', '--accessKey and --accessKeyEnv cannot both be given; keep only one source of the secret key');
  }
  if (merged.blockCacheSync === true && merged.blockCacheWriteDelay !== 0) {
    throw new S3BackerError('S3B_CONFIG_INVALID', `--blockCacheSync needs --blockCacheWriteDelay=0 (it is ${String(merged.blockCacheWriteDelay)}); add --blockCacheWriteDelay=0 or drop --blockCacheSync`);
  }
  const cacheFileFlags = ['blockCacheNoVerify', 'blockCacheRecoverDirtyBlocks'].filter((key) => merged[key] === true);
  if (cacheFileFlags.length > 0 && merged.blockCacheFile === undefined) {
    throw new S3BackerError('S3B_CONFIG_INVALID', `--${cacheFileFlags[0]} needs --blockCacheFile=FILE; add the cache file or drop the flag`);
  }
  if (merged.blockCacheFile !== undefined && merged.blockCacheSize === 0) {
    throw new S3BackerError('S3B_CONFIG_INVALID', '--blockCacheFile needs a block cache, but --blockCacheSize=0 disables it; give a cache size or drop the cache file');
  }
  checkCodecFlags(merged);
}

/**
 * The C tool only warns about encryption flags without --encrypt (s3b_config.c); an option that is
 * parsed and then ignored hides a mistake (a forgotten --encrypt writes plain blocks), so we refuse.
 */
function checkCodecFlags(merged: Record<string, unknown>): void {
  if (merged.password !== undefined && merged.passwordFile !== undefined) {
    throw new S3BackerError('S3B_CONFIG_INVALID', '--password and --passwordFile cannot both be given; keep only one source of the password');
  }
  if (merged.encrypt === undefined) {
    const stray = ['password', 'passwordFile', 'keyLength'].find((key) => merged[key] !== undefined);
    if (stray !== undefined) {
      throw new S3BackerError('S3B_CONFIG_INVALID', `--${stray === 'keyLength' ? 'keyLength' : stray} only applies to an encrypted volume, and --encrypt was not given; add --encrypt or drop --${stray}`);
    }
  }
  if (merged.compressLevel !== undefined && merged.compress === undefined && merged.encrypt === undefined) {
    throw new S3BackerError('S3B_CONFIG_INVALID', '--compress-level needs --compress (or --encrypt, which compresses with deflate); add --compress=ALG or drop the level');
  }
  if (merged.compressLevel !== undefined && /^-?\d+$/.test(String(merged.compress))) {
    throw new S3BackerError('S3B_CONFIG_INVALID', `--compress=${String(merged.compress)} already gives the deflate level; drop --compress-level or write --compress=deflate`);
  }
}

function invalid(where: string, key: string, reason: string): S3BackerError {
  return new S3BackerError('S3B_CONFIG_INVALID', `${key} in ${where}: ${reason}; fix the value`);
}
