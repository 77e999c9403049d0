import { readFileSync } from 'node:fs';
import { parseOptionValue, checkOptionValue, setCheckedOption, type OptionKey, type OptionValues } from './options.js';
import { closestName } from './closest-name.js';
import { isFusePassthroughOption } from './fuse-passthrough-options.js';
import { SEPARATE_ARGUMENT_FLAGS } from './separate-argument-flags.js';
import { OptionCatalog } from './option-catalog.js';
import { S3BackerError } from '../errors/s3backer-error.js';

/** The command line, parsed but not yet merged with a config file or defaults (see merge-config.ts). */
export interface ParsedCommandLine {
  /** Options given on the command line (flags, `-o` items, flag-file lines); the last one given wins. */
  options: Partial<OptionValues>;
  /**
   * Values of the options plugins declare (option-catalog.ts), by key; present when the catalog
   * parsed with has any.
   */
  pluginOptions?: Record<string, unknown>;
  /** `bucket[/subdir]` (or the `--test` directory) and the mount point, in order. */
  positionals: string[];
  /** `-o` items passed through to FUSE (allow-listed in fuse-passthrough-options.ts). */
  fuseOptions: string[];
  /** With `tolerant`: the errors met, in command-line order (the items were skipped). */
  problems?: S3BackerError[];
}

export interface ParseArgvOptions {
  /** Reads a `--configFile` flag file; tests substitute an in-memory map. */
  readFile?: (path: string) => string;
  /** The options known: the built-ins (default), or with the configured plugins' (OptionCatalog.forPlugins). */
  catalog?: OptionCatalog;
  /**
   * Record each item's error in `problems` and go on, instead of throwing: the first pass, which
   * only looks for `--config` and the command before the config file names the plugins (whose
   * options are unknown until then). The strict pass then throws the same first error, if any.
   */
  tolerant?: boolean;
}

/** More substitutions than this is an error (a flag file that includes itself), as in the C tool's s3b_config.c. */
const MAX_CONFIG_FILE_EXPANSIONS = 100;
/** The C tool reads flag files with a 1024-byte line buffer (s3b_config.c, its --configFile handling). */
const MAX_CONFIG_FILE_LINE = 1023;

/** One argv element, remembering the flag file it came from (for error messages). */
interface Arg {
  text: string;
  from?: string;
}

/**
 * Parse argv the way the C tool does (s3b_config.c, with fuse_opt): `--name=value` (a value needs
 * `=`; `--size 1g` is an error, not `--size=1g`), `--name` / `--no-name` for on/off flags, `-o a,b=c`
 * lists, short aliases, and `--configFile=FILE` / `-F FILE` flag files expanded in place. The flags
 * that name a file also take it as the next argument (`--config FILE`, separate-argument-flags.ts). A flag
 * given twice: the last one wins. Values are parsed and checked against the catalog (OPTION_TABLE and
 * the plugins' options) here; checks that need other options (or the volume) come later.
 */
export function parseArgv(argv: readonly string[], options: ParseArgvOptions = {}): ParsedCommandLine {
  const readFile = options.readFile ?? ((path: string) => readFileSync(path, 'utf8'));
  const catalog = options.catalog ?? OptionCatalog.BUILT_IN;
  const result: ParsedCommandLine = {
    options: {}, positionals: [], fuseOptions: [],
    ...(catalog.hasPluginOptions ? { pluginOptions: {} } : {}),
    ...(options.tolerant ? { problems: [] } : {}),
  };
  const queue: Arg[] = argv.map((text) => ({ text }));
  let expansions = 0;
  let flagsEnded = false;

  /** Run one item's step; in tolerant mode its error is recorded and parsing goes on with the next item. */
  const attempt = (step: () => void): void => {
    if (!options.tolerant) return step();
    try {
      step();
    } catch (error) {
      if (!(error instanceof S3BackerError)) throw error;
      result.problems!.push(error);
    }
  };

  const store = (key: string, value: unknown): void => {
    if (catalog.get(key)?.plugin === undefined) setCheckedOption(result.options, key as OptionKey, value);
    else result.pluginOptions![key] = value;
  };

  /**
   * `no-vhost` (in the C tool's flag table, s3b_config.c) and, generally, `no-NAME` for any on/off flag:
   * the option it turns off.
   */
  const negatedFlag = (name: string): string | undefined => {
    if (!name.startsWith('no-')) return undefined;
    const key = catalog.longNames.get(name.slice(3));
    return key !== undefined && catalog.get(key)!.spec.type === 'boolean' ? key : undefined;
  };

  /** Replace a `--configFile` in place by its file's lines (pushed to the front of the queue). */
  const expandConfigFile = (path: string, origin: Arg, rest: Arg[] = []): void => {
    if (path === '') throw invalid('--configFile', 'needs a file name', origin, 'write --configFile=FILE or -F FILE');
    if (++expansions > MAX_CONFIG_FILE_EXPANSIONS) {
      throw new S3BackerError('S3B_CONFIG_FILE', `configFile nesting too deep: more than ${MAX_CONFIG_FILE_EXPANSIONS} --configFile expansions` +
        ` (the last one "${path}"${fromText(origin)}); check for a flag file that includes itself`);
    }
    queue.unshift(...readFlagFile(path, readFile, origin), ...rest);
  };

  const setOption = (key: string, raw: string | true, display: string, origin: Arg): void => {
    const spec = catalog.get(key)!.spec;
    const parsed = parseOptionValue(spec, raw);
    if ('error' in parsed) throw invalid(display, parsed.error, origin);
    const problem = checkOptionValue(spec, parsed.value);
    if (problem !== undefined) throw invalid(display, problem, origin);
    store(key, parsed.value);
  };

  /** One `-o` list: s3backer options, `configFile=`, or FUSE pass-through items (as s3b_config.c splits them). */
  const parseOptionList = (list: string, origin: Arg): void => {
    const items = splitOptionList(list);
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      const eq = item.indexOf('=');
      const name = eq < 0 ? item : item.slice(0, eq);
      const raw: string | true = eq < 0 ? true : item.slice(eq + 1);
      const key = catalog.longNames.get(name);
      if (key === 'configFile') {
        // The rest of this list is processed after the file's lines, as if the list had been split there.
        const rest = items.slice(i + 1);
        attempt(() => expandConfigFile(raw === true ? '' : raw, origin, rest.length > 0 ? [{ text: '-o' + joinOptionList(rest), ...fromOf(origin) }] : []));
        return;
      }
      attempt(() => {
        const negated = key === undefined ? negatedFlag(name) : undefined;
        if (negated !== undefined) {
          if (raw !== true) throw invalid(`-o ${item}`, 'a no- option takes no value', origin, `write ${name.slice(3)}=${raw} instead`);
          store(negated, false);
        } else if (key !== undefined) {
          setOption(key, raw, `-o ${item}`, origin);
        } else if (isFusePassthroughOption(item)) {
          result.fuseOptions.push(item);
          // mount(8)'s `ro` (e.g. from /etc/fstab) means the same as --readOnly.
          if (item === 'ro') result.options.readOnly = true;
        } else {
          const suggestion = closestName(name, [...catalog.options.values()].map((option) => option.spec.flag));
          throw new S3BackerError('S3B_CONFIG_UNKNOWN_OPTION', `unknown option "${name}" in -o ${list}${fromText(origin)}; ` +
            (suggestion !== undefined ? `did you mean "${suggestion}"?`
              : 'it is neither an s3backer option nor a FUSE mount option s3backer passes on; see s3backer --help'));
        }
      });
    }
  };

  /** One argument that starts with "-" (not "--" alone). */
  const parseFlag = (arg: Arg): void => {
    const text = arg.text;
    if (text.startsWith('--')) {
      const eq = text.indexOf('=');
      const name = eq < 0 ? text.slice(2) : text.slice(2, eq);
      const raw: string | true = eq < 0 ? true : text.slice(eq + 1);
      const key = catalog.longNames.get(name);
      const negated = key === undefined ? negatedFlag(name) : undefined;
      if (negated !== undefined) {
        if (raw !== true) throw invalid(text, 'a --no- flag takes no value', arg, `write --${name.slice(3)}=${raw} instead`);
        store(negated, false);
        return;
      }
      if (key === undefined) throw unknownFlag(eq < 0 ? text : text.slice(0, eq), arg, catalog);
      let value = raw;
      if (value === true && SEPARATE_ARGUMENT_FLAGS.has(key as OptionKey)) {
        const next = queue.shift();
        if (next === undefined || (next.text.startsWith('-') && next.text !== '-')) {
          // A forgotten file name must not make the next flag a file name.
          throw invalid(text, next === undefined ? 'needs a file name' : `needs a file name, not the flag "${next.text}"`, arg,
            `write ${text} FILE or ${text}=FILE (a file whose name starts with "-" as ${text}=./NAME)`);
        }
        value = next.text;
      }
      if (key === 'configFile') {
        expandConfigFile(value === true ? '' : value, arg);
        return;
      }
      setOption(key, value, value === raw ? text : `${text} ${String(value)}`, arg);
      return;
    }

    // Short forms: -o LIST / -oLIST, -F FILE / -FFILE, and single-letter on/off aliases (-f, -d, -h, -v).
    const letter = text[1]!;
    if (letter === 'o' || catalog.shortNames.get(letter) === 'configFile') {
      let value = text.slice(2);
      if (value === '') {
        const next = queue.shift();
        if (next === undefined) {
          throw invalid(text, 'needs an argument', arg, `write ${letter === 'o' ? '-o name=value,...' : '-F FILE'}`);
        }
        value = next.text;
      }
      if (letter === 'o') parseOptionList(value, arg);
      else expandConfigFile(value, arg);
      return;
    }
    const key = text.length === 2 ? catalog.shortNames.get(letter) : undefined;
    if (key === undefined || catalog.get(key)!.spec.type !== 'boolean') throw unknownFlag(text, arg, catalog);
    store(key, true);
    // FUSE's -d means "debug, and stay in the foreground" (the C tool's s3b_config.c); a later
    // --foreground=false still wins.
    if (key === 'debug') result.options.foreground = true;
  };

  while (queue.length > 0) {
    const arg = queue.shift()!;
    const text = arg.text;
    if (flagsEnded || !text.startsWith('-') || text === '-') {
      result.positionals.push(text);
      continue;
    }
    if (text === '--') {
      flagsEnded = true;
      continue;
    }
    attempt(() => parseFlag(arg));
  }
  return result;
}

/** A flag file's arguments: one per line, trimmed, blank and `#` lines skipped (as the C tool's s3b_config.c). */
function readFlagFile(path: string, readFile: (path: string) => string, origin: Arg): Arg[] {
  let content: string;
  try {
    content = readFile(path);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new S3BackerError('S3B_CONFIG_FILE', `cannot read flag file "${path}" (--configFile${origin.from === undefined ? '' : `, named in flag file "${origin.from}"`}): ${reason}; check the path and permissions`,
      { cause: error });
  }
  const args: Arg[] = [];
  const lines = content.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.length > MAX_CONFIG_FILE_LINE) {
      throw new S3BackerError('S3B_CONFIG_FILE', `flag file "${path}" line ${i + 1} is too long (${line.length} characters, at most ${MAX_CONFIG_FILE_LINE}); shorten it`);
    }
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    args.push({ text: trimmed, from: path });
  }
  return args;
}

/** Split an `-o` list on commas; `\,` is a literal comma and `\\` a backslash, as in fuse_opt. */
function splitOptionList(list: string): string[] {
  const items: string[] = [];
  let current = '';
  for (let i = 0; i < list.length; i++) {
    const c = list[i]!;
    if (c === '\\' && i + 1 < list.length) current += list[++i];
    else if (c === ',') {
      items.push(current);
      current = '';
    } else current += c;
  }
  items.push(current);
  return items.filter((item) => item !== '');
}

function joinOptionList(items: readonly string[]): string {
  return items.map((item) => item.replace(/[\\,]/g, (c) => '\\' + c)).join(',');
}

function fromOf(arg: Arg): { from?: string } {
  return arg.from === undefined ? {} : { from: arg.from };
}

function fromText(arg: Arg): string {
  return arg.from === undefined ? '' : ` (from flag file "${arg.from}")`;
}

function invalid(display: string, reason: string, origin: Arg, hint = 'fix the value (see s3backer --help)'): S3BackerError {
  return new S3BackerError('S3B_CONFIG_INVALID', `${display}${fromText(origin)}: ${reason}; ${hint}`);
}

function unknownFlag(flag: string, origin: Arg, catalog: OptionCatalog): S3BackerError {
  // Compare without dashes, so "-x" is not "close" to "-f" just because both start with "-".
  const spellings = catalog.flagSpellings();
  const suggestion = closestName(flag.replace(/^-+/, ''), spellings.keys());
  return new S3BackerError('S3B_CONFIG_UNKNOWN_OPTION', `unknown option "${flag}"${fromText(origin)}; ` +
    (suggestion !== undefined ? `did you mean "${spellings.get(suggestion)}"?` : 'see s3backer --help for the list of options'));
}
