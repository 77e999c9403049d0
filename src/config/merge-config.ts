import { resolve } from 'node:path';
import { OPTION_KEYS, OPTION_DEFAULTS, optionSpec, checkOptionValue, parseOptionValue, setCheckedOption, type OptionKey, type OptionValues } from './options.js';
import { checkCrossFlags } from './check-cross-flags.js';
import { closestName } from './closest-name.js';
import { OptionCatalog, EXTRA_FILE_KEYS } from './option-catalog.js';
import { configFilePlugins } from './config-file-plugins.js';
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
  /**
   * The config file's plugins, already loaded (loadConfigFilePlugins: package names imported);
   * without it the file's `plugins` must all be plugin objects, checked here.
   */
  plugins?: readonly S3BackerPlugin[];
  /** The options known (the one `cli` was parsed with); defaults to the built-ins plus what the plugins declare. */
  catalog?: OptionCatalog;
}

/** Option values of each plugin that declares options, by plugin name then key, defaults filled; frozen. */
export type PluginOptionValues = Readonly<Record<string, Readonly<Record<string, unknown>>>>;

export interface ResolvedCommandLine {
  config: ResolvedConfig;
  /** `-o` items for FUSE (fuse-passthrough-options.ts), in command-line order. */
  fuseOptions: readonly string[];
  command: CommandName;
  /**
   * The config file's plugins, in order (frozen; the plugin objects are their authors'). Kept out
   * of ResolvedConfig, which the engine and every plugin see: a plugin list in it made the config
   * types depend on the engine's.
   */
  plugins: readonly S3BackerPlugin[];
  /** The values of the options the plugins declare (for `Engine.create`'s `pluginOptions`). */
  pluginOptions: PluginOptionValues;
}

export const USAGE = Object.freeze({
  mount: 's3backer [options] bucket[/subdir] mountpoint',
  'nbd-listen': 's3backer --nbd-listen=ADDRESS [options] bucket[/subdir]',
  nbd: 's3backer --nbd [options] bucket[/subdir] /dev/nbdX',
  erase: 's3backer --erase [options] bucket[/subdir]',
  'reset-mounted-flag': 's3backer --reset-mounted-flag [options] bucket[/subdir]',
});

/** Which command the command line asks for; --help and --version win over everything (they never fail). */
export function detectCommand(cli: ParsedCommandLine): CommandName {
  if (cli.options.help === true) return 'help';
  if (cli.options.version === true) return 'version';
  if (cli.options.erase === true && cli.options.resetMountedFlag === true) {
    throw new S3BackerError('S3B_CONFIG_INVALID', '--erase and --reset-mounted-flag cannot be combined; run them one after the other');
  }
  const nbdFlag = cli.options.nbd === true ? '--nbd' : cli.options.nbdListen !== undefined ? '--nbd-listen' : undefined;
  if (nbdFlag !== undefined && (cli.options.erase === true || cli.options.resetMountedFlag === true)) {
    // As the C tool's main.c: the maintenance commands serve nothing.
    throw new S3BackerError('S3B_CONFIG_INVALID', `${nbdFlag} cannot be combined with ${cli.options.erase === true ? '--erase' : '--reset-mounted-flag'}; run that without ${nbdFlag}`);
  }
  if (cli.options.nbd === true && cli.options.nbdListen !== undefined) {
    throw new S3BackerError('S3B_CONFIG_INVALID', '--nbd and --nbd-listen cannot be combined: --nbd serves on a private socket for nbd-client; give one of them');
  }
  if (cli.options.erase === true) return 'erase';
  if (cli.options.resetMountedFlag === true) return 'reset-mounted-flag';
  return 'mount';
}

/**
 * Command line + config file + defaults → the frozen ResolvedConfig (vite's resolveConfig). Per key:
 * `cli ?? file ?? default` (null/undefined never override, as in vite's mergeConfig); a positional
 * `bucket/subdir` is part of the command line and sets the prefix there. A bad value in the file is
 * reported only if it is used (a flag may override it). Positionals follow the C tool (s3b_config.c);
 * then the cross-flag checks of its `validate_config` (check-cross-flags.ts).
 */
export function resolveConfig(input: ResolveConfigInput): ResolvedCommandLine {
  const { cli } = input;
  const cwd = input.cwd ?? process.cwd();
  const command = detectCommand(cli);
  // --help and --version must work whatever the config file or the rest of the command line says.
  const info = command === 'help' || command === 'version';
  const where = input.filePath === undefined ? 'the config file' : `config file "${input.filePath}"`;
  const plugins = info ? [] : input.plugins ?? (input.file?.plugins == null ? [] : configFilePlugins(input.file.plugins, where));
  const catalog = input.catalog ?? OptionCatalog.forPlugins(plugins);
  const file: ValidatedFile = info ? { options: {}, pluginOptions: {}, problems: {}, where: '' } : validateFile(input.file ?? {}, where, catalog);

  // The table's defaults, then what the config file and the command line give (every value was
  // checked against its spec where it was read).
  const merged: Partial<OptionValues> = { ...OPTION_DEFAULTS };
  const given = new Set<OptionKey>();
  for (const key of OPTION_KEYS) {
    const spec = optionSpec(key);
    let value: unknown = cli.options[key];
    if (value === undefined && !spec.cliOnly && key !== 'prefix') value = fileValue(file, key);
    if (value === undefined) continue;
    given.add(key);
    setCheckedOption(merged, key, value);
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

  const nbd = merged.nbd === true || merged.nbdListen !== undefined;
  // As in the C tool (main.c): in NBD mode the kernel reads ahead, so ours is off unless given.
  if (nbd && command === 'mount') {
    if (!given.has('readAhead')) merged.readAhead = 0;
  }

  // The plugins' own options, by the same precedence: command line, config file, declared default.
  const pluginOptions: Record<string, Record<string, unknown>> = {};
  for (const [plugin, options] of catalog.pluginSections()) {
    const values: Record<string, unknown> = {};
    for (const { key, spec } of options) {
      let value = cli.pluginOptions?.[key];
      if (value === undefined && !info) value = fileValue(file, key);
      value ??= spec.default;
      if (value !== undefined) values[key] = value;
    }
    pluginOptions[plugin] = Object.freeze(values);
  }

  let bucket = '';
  let mountPoint: string | undefined;
  let nbdDevice: string | undefined;
  if (!info) {
    ({ bucket, mountPoint, nbdDevice } = resolvePositionals(cli, file, command, merged, cwd));
    checkCrossFlags(merged, given);
  } else if (cli.positionals[0] !== undefined) {
    bucket = cli.positionals[0];
  }

  const config: ResolvedConfig = {
    ...OPTION_DEFAULTS,
    ...merged,
    bucket,
    ...(mountPoint === undefined ? {} : { mountPoint }),
    ...(nbdDevice === undefined ? {} : { nbdDevice }),
  };
  return Object.freeze({
    config: Object.freeze(config),
    fuseOptions: Object.freeze([...cli.fuseOptions]),
    command,
    // The array is frozen; plugin objects are not: they belong to their authors and may keep state.
    plugins: Object.freeze([...plugins]),
    pluginOptions: Object.freeze(pluginOptions),
  });
}

/** An option key (a built-in's or a plugin's), or `bucket`, `mountPoint`. */
type FileKey = string;

interface ValidatedFile {
  /** The valid option values, typed (size and octal strings parsed). */
  options: Partial<OptionValues>;
  /** The valid values of the plugins' options, by key. */
  pluginOptions: Record<string, unknown>;
  /** Bad values, thrown only when the merge uses them: a command-line flag may override a bad file value. */
  problems: Partial<Record<FileKey, S3BackerError>>;
  bucket?: string;
  mountPoint?: string;
  /** For messages: `config file "PATH"`. */
  where: string;
}

/** The file's value for a key, or its problem thrown. */
function fileValue(file: ValidatedFile, key: FileKey): unknown {
  const problem = Object.hasOwn(file.problems, key) ? file.problems[key] : undefined;
  if (problem !== undefined) throw problem;
  if (key === 'bucket' || key === 'mountPoint') return file[key];
  return Object.hasOwn(file.options, key) ? file.options[key as OptionKey] : Object.hasOwn(file.pluginOptions, key) ? file.pluginOptions[key] : undefined;
}

/**
 * Every key of the config file checked against the catalog (OPTION_TABLE and the plugins' options).
 * Sizes and octal modes may be strings (`'64k'`, `'0644'`: JSON has no octal numbers); a number is
 * always the number itself. Unknown and command-line-only keys fail at once (a typo is never
 * "overridden"); bad values are kept as problems. `plugins` is checked apart (config-file-plugins.ts).
 */
function validateFile(file: UserConfig, where: string, catalog: OptionCatalog): ValidatedFile {
  const result: ValidatedFile = { options: {}, pluginOptions: {}, problems: {}, where };
  const validKeys = [...[...catalog.options.values()].filter((option) => !option.spec.cliOnly).map((option) => option.key), ...EXTRA_FILE_KEYS];
  for (const [name, value] of Object.entries(file)) {
    if (value === undefined || value === null) continue;
    if (name === 'bucket' || name === 'mountPoint') {
      if (typeof value !== 'string') result.problems[name] = invalid(where, name, 'must be a string', 'fix the value or give it on the command line');
      else result[name] = value;
      continue;
    }
    if (name === 'plugins') continue;
    const option = catalog.get(name);
    if (option === undefined) {
      const suggestion = closestName(name, validKeys);
      throw new S3BackerError('S3B_CONFIG_UNKNOWN_OPTION', `unknown key "${name}" in ${where}; ` +
        (suggestion !== undefined ? `did you mean "${suggestion}"?` : 'see docs/config.md for the valid keys'));
    }
    const key = name as OptionKey;
    const spec = option.spec;
    if (spec.cliOnly) {
      throw new S3BackerError('S3B_CONFIG_UNKNOWN_OPTION', `"${name}" cannot be set in ${where}: it is a command-line flag only; ` +
        `pass --${spec.flag} on the command line instead`);
    }
    const hint = `fix the value or override it with --${spec.flag}`;
    let typed: unknown = value;
    if ((spec.type === 'size' || spec.type === 'octal') && typeof value === 'string') {
      const parsed = parseOptionValue(spec, value);
      if ('error' in parsed) {
        result.problems[key] = invalid(where, name, parsed.error, hint);
        continue;
      }
      typed = parsed.value;
    }
    const problem = checkOptionValue(spec, typed);
    if (problem !== undefined) result.problems[key] = invalid(where, name, problem, hint);
    else if (option.plugin === undefined) setCheckedOption(result.options, key as OptionKey, typed);
    else result.pluginOptions[key] = typed;
  }
  return result;
}

/**
 * As in the C tool (s3b_config.c): `bucket[/subdir]` then the mount point; `--erase` and
 * `--reset-mounted-flag` take the bucket only; with `--test` (or `--store=dir`) the first argument
 * is a directory. The config file may supply either. When it sets `bucket`, a single argument of
 * a mount is the mount point (give both arguments to override the file's bucket too). The bucket
 * argument replaces the file's `bucket` as a whole; its `/subdir` is the command line's prefix.
 */
function resolvePositionals(cli: ParsedCommandLine, file: ValidatedFile, command: 'mount' | 'erase' | 'reset-mounted-flag',
  merged: Record<string, unknown>, cwd: string): { bucket: string; mountPoint?: string; nbdDevice?: string } {
  const listen = command === 'mount' && merged.nbdListen !== undefined;
  const usage = `usage: ${USAGE[listen ? 'nbd-listen' : merged.nbd === true ? 'nbd' : command]}; see --help`;
  const positionals = cli.positionals;
  const maxPositionals = command === 'mount' && !listen ? 2 : 1;
  if (positionals.length > maxPositionals) {
    const extra = positionals.slice(maxPositionals).map((p) => `"${p}"`).join(' ');
    throw new S3BackerError('S3B_USAGE', listen
      ? `--nbd-listen serves with no mount point (got ${extra}); ${usage}`
      : command === 'mount'
      ? `too many arguments: ${extra}; ${usage}`
      : `--${command} takes no mount point (got ${extra}); ${usage}`);
  }
  const fileHasBucket = file.bucket !== undefined || file.problems.bucket !== undefined;
  const [bucketArg, mountPointArg] = command === 'mount' && !listen && positionals.length === 1 && fileHasBucket
    ? [undefined, positionals[0]]
    : [positionals[0], positionals[1]];

  const bucketText = bucketArg ?? fileValue(file, 'bucket') as string | undefined;
  if (bucketText === undefined) {
    throw new S3BackerError('S3B_USAGE', `missing ${merged.store === 'dir' ? 'directory' : 'bucket'}; ${usage}`);
  }
  let bucket: string;
  let subdir: string | undefined;
  if (merged.store === 'dir') {
    // --test / --store=dir: a directory path contains slashes, so no bucket/subdir split (as with the
    // C tool's --test, s3b_config.c).
    // Absolute, because a background daemon no longer runs in the current directory.
    if (bucketText === '') throw new S3BackerError('S3B_USAGE', `the directory argument may not be empty; ${usage}`);
    bucket = resolve(cwd, bucketText);
  } else {
    ({ bucket, subdir } = splitBucket(bucketText));
  }
  merged.prefix = resolvePrefix(cli, file, subdir, bucketArg !== undefined, bucketText);

  if (command !== 'mount' || listen) return { bucket };
  if (merged.nbd === true) {
    // The C tool's `--nbd … bucket /dev/nbdX`: the second argument is the kernel's NBD device.
    if (mountPointArg === undefined || mountPointArg === '') throw new S3BackerError('S3B_USAGE', `missing NBD device (/dev/nbdX); ${usage}`);
    return { bucket, nbdDevice: resolve(cwd, mountPointArg) };
  }
  const mountPointText = mountPointArg ?? fileValue(file, 'mountPoint') as string | undefined;
  if (mountPointText === undefined || mountPointText === '') {
    throw new S3BackerError('S3B_USAGE', `missing mount point; ${usage}`);
  }
  return { bucket, mountPoint: resolve(cwd, mountPointText) };
}

/**
 * The prefix, with the usual precedence, where `bucket/subdir` counts as `--prefix=subdir/` at the
 * level it is written: on the command line it conflicts with a non-empty `--prefix` (as in the C
 * tool's s3b_config.c) and overrides the file's `prefix`; in the file it yields to `--prefix`.
 */
function resolvePrefix(cli: ParsedCommandLine, file: ValidatedFile, subdir: string | undefined, subdirOnCommandLine: boolean, bucketText: string): string {
  const cliPrefix = cli.options.prefix as string | undefined;
  if (subdir !== undefined && subdirOnCommandLine) {
    if (cliPrefix !== undefined && cliPrefix !== '') {
      throw new S3BackerError('S3B_CONFIG_INVALID', `"${bucketText}" sets the prefix "${subdir}/", but --prefix=${cliPrefix} was also given; use one or the other`);
    }
    return subdir + '/';
  }
  if (cliPrefix !== undefined) return cliPrefix;
  const filePrefix = fileValue(file, 'prefix') as string | undefined;
  if (subdir !== undefined) {
    // The file's `bucket: 'b/sub'` and a non-empty `prefix` say two things about one setting.
    if (filePrefix !== undefined && filePrefix !== '') {
      throw new S3BackerError('S3B_CONFIG_INVALID', `bucket "${bucketText}" in ${file.where} sets the prefix "${subdir}/", ` +
        `but the file also sets prefix "${filePrefix}"; keep one of them (or override both with --prefix)`);
    }
    return subdir + '/';
  }
  return filePrefix ?? (optionSpec('prefix').default as string);
}

/** `bucket/subdir` split; both parts are checked strictly, as the C tool's s3b_config.c does. */
function splitBucket(text: string): { bucket: string; subdir?: string } {
  if (text === '' || text.startsWith('/')) {
    throw new S3BackerError('S3B_CONFIG_INVALID', `invalid bucket "${text}": the bucket name may not be empty or start with "/"; write bucket or bucket/subdir`);
  }
  const slash = text.indexOf('/');
  if (slash < 0) return { bucket: text };
  const subdir = text.slice(slash + 1);
  if (subdir === '' || subdir.startsWith('/') || subdir.endsWith('/') || subdir.includes('//')) {
    throw new S3BackerError('S3B_CONFIG_INVALID', `invalid subdirectory in "${text}": it must be non-empty, without leading, trailing or double slashes; ` +
      'write bucket/dir or bucket/dir/subdir');
  }
  return { bucket: text.slice(0, slash), subdir };
}

function invalid(where: string, key: string, reason: string, hint = 'fix the value'): S3BackerError {
  return new S3BackerError('S3B_CONFIG_INVALID', `${key} in ${where}: ${reason}; ${hint}`);
}
