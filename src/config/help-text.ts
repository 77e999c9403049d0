import { OPTION_KEYS, optionSpec, defaultText, type OptionGroup, type OptionSpec } from './options.js';
import { SEPARATE_ARGUMENT_FLAGS } from './separate-argument-flags.js';
import { CONFIG_SEARCH_PLACES } from './load-config-file.js';
import { USAGE } from './merge-config.js';
import { OptionCatalog, type CatalogOption } from './option-catalog.js';

export interface HelpTextOptions {
  /** The options known: with the config file's plugins, their options get a section each. */
  catalog?: OptionCatalog;
  /** One line at the end, e.g. why the plugins' options are missing (the config file failed to load). */
  note?: string;
}

/** Group headings, in the order help and docs list them. */
export const GROUP_TITLES: Readonly<Record<OptionGroup, string>> = Object.freeze({
  volume: 'Volume',
  store: 'Store',
  s3: 'S3',
  cache: 'Block cache',
  codec: 'Compression and encryption',
  fuse: 'FUSE mount',
  nbd: 'NBD export',
  general: 'General',
});

/** Enum values are spelled out in the flag column only while they stay this short. */
const MAX_INLINE_ENUM = 24;
/** Flag column width; longer flags put their description on the next line. */
const FLAG_COLUMN = 30;

/**
 * How a flag is written, e.g. `-f, --foreground`, `--size=SIZE`, `-F FILE, --configFile FILE` (the
 * flags of separate-argument-flags.ts show their space form; their `=` form works too).
 */
export function flagUsage(spec: OptionSpec): string {
  const value = valuePlaceholder(spec);
  const optional = spec.type === 'string' && spec.bareValue !== undefined;
  const key = OPTION_KEYS.find((candidate) => optionSpec(candidate) === spec);
  const separator = key !== undefined && SEPARATE_ARGUMENT_FLAGS.has(key) ? ' ' : '=';
  const long = `--${spec.flag}${value === undefined ? '' : optional ? `[=${value}]` : separator + value}`;
  const shorts = (spec.aliases ?? []).map((alias) => (alias.length === 1 ? `-${alias}` : `--${alias}`) + (value === undefined ? '' : ` ${value}`));
  return [...shorts, long].join(', ');
}

/** The one-line description with the enum values (when not in the flag column) and the default. */
export function describeOption(spec: OptionSpec): string {
  let text = spec.doc;
  if (spec.type === 'enum' && valuePlaceholder(spec) === 'VALUE') text += ` One of: ${spec.values.join(', ')}.`;
  const dflt = defaultText(spec);
  if (dflt !== undefined) text += ` (default: ${dflt})`;
  return text;
}

function valuePlaceholder(spec: OptionSpec): string | undefined {
  if (spec.type === 'boolean') return undefined;
  if (spec.metavar !== undefined) return spec.metavar;
  if (spec.type === 'enum') {
    const inline = spec.values.join('|');
    return inline.length <= MAX_INLINE_ENUM ? inline : 'VALUE';
  }
  return 'VALUE';
}

/**
 * `s3backer --help`, generated from OPTION_TABLE so it cannot drift from what the parser accepts;
 * then a section per plugin that declares options ("Plugin xor:"), from the same catalog the
 * command line is parsed with.
 */
export function helpText(options: HelpTextOptions = {}): string {
  const lines: string[] = [
    's3backer: a virtual disk whose blocks live in S3 (compatible with the C s3backer)',
    '',
    'Usage:',
    `  ${USAGE.mount}`,
    `  ${USAGE['nbd-listen']}`,
    `  ${USAGE.nbd}`,
    `  ${USAGE.erase}`,
    `  ${USAGE['reset-mounted-flag']}`,
    '  s3backer --test [options] directory mountpoint',
    '',
    'A flag takes its value after "=" (--size=1g). Every flag can also be given in an -o list, as in',
    '/etc/fstab: -o size=1g,readOnly. Other -o items are passed to FUSE only if they are standard FUSE or',
    'mount options (allow_other, uid=N, ro, ...); any other -o item is an error (the C tool passes unknown',
    'items to FUSE, so a misspelt option would be ignored). As with FUSE, -d also means -f.',
    '-F FILE (--configFile FILE, --configFile=FILE) reads more arguments from FILE, one per line.',
    '--config FILE (or --config=FILE) loads a typed config file; without it, the first of',
    `  ${CONFIG_SEARCH_PLACES.join(', ')}`,
    'in the current directory is loaded.',
    'Precedence: the command line (flags, -o items, flag files, and bucket/subdir, which sets the',
    'prefix) over the config file over the defaults. Details: docs/config.md.',
    'Plugins the config file names may add options of their own, listed last ("Plugin NAME").',
  ];
  for (const group of Object.keys(GROUP_TITLES) as OptionGroup[]) {
    lines.push('', `${GROUP_TITLES[group]}:`);
    for (const key of OPTION_KEYS) {
      const spec = optionSpec(key);
      if (spec.group === group) lines.push(...optionLines(spec));
    }
  }
  for (const [plugin, pluginOptions] of (options.catalog ?? OptionCatalog.BUILT_IN).pluginSections()) {
    lines.push('', `Plugin ${plugin}:`);
    for (const option of pluginOptions as CatalogOption[]) lines.push(...optionLines(option.spec));
  }
  if (options.note !== undefined) lines.push('', options.note);
  return lines.join('\n') + '\n';
}

/** One option's help: the flag, then its description in a column (on the next line for a long flag). */
function optionLines(spec: OptionSpec): string[] {
  const usage = flagUsage(spec);
  const description = describeOption(spec);
  return usage.length + 2 > FLAG_COLUMN ? [`  ${usage}`, `  ${' '.repeat(FLAG_COLUMN)}${description}`] : [`  ${usage.padEnd(FLAG_COLUMN)}${description}`];
}
