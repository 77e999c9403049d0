import { OPTION_KEYS, optionSpec, checkOptionValue, type OptionSpec } from './options.js';
import type { S3BackerPlugin, PluginOptionSpec } from '../engine/plugin.js';
import { S3BackerError } from '../errors/s3backer-error.js';

/** One option the command line and config file accept: a built-in one, or one a plugin declares. */
export interface CatalogOption {
  /** The config-file key; for a plugin's option also its key in the plugin's `engine.options`. */
  readonly key: string;
  readonly spec: OptionSpec;
  /** The plugin that declares it; undefined for a built-in option. */
  readonly plugin?: string;
}

/** Config-file keys that are not options (merge-config.ts): no plugin option may take them either. */
export const EXTRA_FILE_KEYS = ['bucket', 'mountPoint', 'plugins'] as const;

/** Keys and flags a plugin may use: `-o` items split on `,` and `=`, so neither may appear; `no-` would read as a negation. */
const PLUGIN_OPTION_NAME = /^[A-Za-z][A-Za-z0-9_.-]*$/;
const TYPES: ReadonlySet<string> = new Set(['boolean', 'string', 'integer', 'size', 'octal', 'enum']);

/**
 * The options the parser, the config-file check, `--help` and the merge know: OPTION_TABLE, plus
 * the options the configured plugins declare (docs/plugins.md, "Options of your own"). Built once
 * per command line; every name (key, flag, alias) belongs to exactly one option, so a plugin option
 * that takes a built-in's name or another plugin's is refused here, naming both.
 */
export class OptionCatalog {
  /** The built-in options only: what the command line knows before any config file is loaded. */
  static readonly BUILT_IN = new OptionCatalog([]);

  /** Every option by key: the built-ins in table order, then each plugin's in plugin order. */
  readonly options: ReadonlyMap<string, CatalogOption>;
  /** Long spellings without `--` (the flag, the config key, long aliases) → key. */
  readonly longNames: ReadonlyMap<string, string>;
  /** Single-letter aliases (`-f`) → key. */
  readonly shortNames: ReadonlyMap<string, string>;

  private constructor(plugins: readonly S3BackerPlugin[]) {
    const options = new Map<string, CatalogOption>();
    const longNames = new Map<string, string>();
    const shortNames = new Map<string, string>();
    // Every name, whoever uses it: the key of a config file, a flag, an alias.
    const owners = new Map<string, CatalogOption>();
    for (const key of OPTION_KEYS) {
      const option: CatalogOption = { key, spec: optionSpec(key) };
      options.set(key, option);
      for (const name of namesOf(option)) {
        owners.set(name, option);
        (name.length === 1 ? shortNames : longNames).set(name, key);
      }
    }
    for (const plugin of plugins) {
      for (const [key, declared] of Object.entries(plugin.options ?? {})) {
        const option: CatalogOption = { key, spec: normalize(plugin.name, key, declared), plugin: plugin.name };
        for (const name of namesOf(option)) {
          const owner = owners.get(name) ?? ((EXTRA_FILE_KEYS as readonly string[]).includes(name) || name === 'o' ? 'reserved' : undefined);
          if (owner !== undefined) throw collision(option, name, owner);
          owners.set(name, option);
          (name.length === 1 ? shortNames : longNames).set(name, key);
        }
        options.set(key, option);
      }
    }
    this.options = options;
    this.longNames = longNames;
    this.shortNames = shortNames;
  }

  /**
   * The built-ins plus what `plugins` declare. Throws S3B_CONFIG_INVALID when two options share a
   * name, S3B_PLUGIN_ERROR when a plugin's declaration is malformed (its author's bug).
   */
  static forPlugins(plugins: readonly S3BackerPlugin[]): OptionCatalog {
    return plugins.some((plugin) => plugin.options !== undefined) ? new OptionCatalog(plugins) : OptionCatalog.BUILT_IN;
  }

  get(key: string): CatalogOption | undefined {
    return this.options.get(key);
  }

  /** Whether any plugin declared an option (else the catalog is the built-in table). */
  get hasPluginOptions(): boolean {
    return this.options.size > OPTION_KEYS.length;
  }

  /** The plugins' options, by plugin name, in plugin order. */
  pluginSections(): Map<string, CatalogOption[]> {
    const sections = new Map<string, CatalogOption[]>();
    for (const option of this.options.values()) {
      if (option.plugin !== undefined) sections.set(option.plugin, [...(sections.get(option.plugin) ?? []), option]);
    }
    return sections;
  }

  /** What "did you mean" may suggest for a mistyped flag, without its dashes → as written (`--flag`, `-f`). */
  flagSpellings(): Map<string, string> {
    return new Map<string, string>([
      ...[...this.options.values()].map((option): [string, string] => [option.spec.flag, '--' + option.spec.flag]),
      ...[...this.shortNames.keys()].map((alias): [string, string] => [alias, '-' + alias]),
    ]);
  }
}

/** How a message names an option: `the built-in option --size`, `option --xorKey of plugin "xor"`. */
export function describeCatalogOption(option: CatalogOption): string {
  return option.plugin === undefined ? `the built-in option --${option.spec.flag}` : `option --${option.spec.flag} of plugin "${option.plugin}"`;
}

function namesOf(option: CatalogOption): Set<string> {
  return new Set([option.key, option.spec.flag, ...(option.spec.aliases ?? [])]);
}

function collision(option: CatalogOption, name: string, owner: CatalogOption | 'reserved'): S3BackerError {
  const what = `plugin "${option.plugin}" declares the option "${option.key}"${option.spec.flag === option.key ? '' : ` (--${option.spec.flag})`}`;
  if (owner === 'reserved') {
    return new S3BackerError('S3B_CONFIG_INVALID', `${what}, but "${name}" is reserved (${name === 'o' ? 'the -o list' : 'a config-file key'}); the plugin must rename its option`);
  }
  const fix = owner.plugin === undefined ? 'the plugin must rename its option' : `rename the option in one of them, or configure only one of "${owner.plugin}" and "${option.plugin}"`;
  return new S3BackerError('S3B_CONFIG_INVALID', `${what}, but the name "${name}" is already ${describeCatalogOption(owner)}; ${fix}`);
}

/**
 * A plugin's declaration as a full OptionSpec: `flag` defaults to the key; `group` is a placeholder
 * (help lists a plugin's options in a section of their own). A malformed one is the plugin's bug.
 */
function normalize(plugin: string, key: string, declared: PluginOptionSpec): OptionSpec {
  const bug = (problem: string) => new S3BackerError('S3B_PLUGIN_ERROR',
    `plugin "${plugin}" declares option "${key}" wrongly: ${problem}; report this to the plugin's author`, { plugin });
  if (declared === null || typeof declared !== 'object') throw bug('its spec is not an object');
  if (!PLUGIN_OPTION_NAME.test(key) || key.startsWith('no-')) throw bug('an option key is a letter followed by letters, digits, "_", "." or "-", not starting with "no-"');
  const flag = declared.flag ?? key;
  if (!TYPES.has(declared.type)) throw bug(`type must be one of ${[...TYPES].join(', ')}`);
  if (declared.aliases !== undefined && !Array.isArray(declared.aliases)) throw bug('aliases must be an array of names');
  for (const name of [flag, ...(declared.aliases ?? [])]) {
    if (typeof name !== 'string' || !PLUGIN_OPTION_NAME.test(name) || name.startsWith('no-')) throw bug(`"${String(name)}" cannot be a flag name`);
    // The parser reads a single letter as an on/off flag (`-f`); only -o and -F take a value.
    if (name.length === 1 && declared.type !== 'boolean') throw bug(`the one-letter alias "-${name}" is only possible for an on/off (boolean) option`);
  }
  if (typeof declared.doc !== 'string' || declared.doc === '') throw bug('doc must be a non-empty string (it is the --help line)');
  if (declared.type === 'enum' && (!Array.isArray(declared.values) || declared.values.length === 0 || !declared.values.every((v) => typeof v === 'string'))) {
    throw bug('an enum needs values: a non-empty array of strings');
  }
  if (declared.validate !== undefined && typeof declared.validate !== 'function') throw bug('validate must be a function');
  const spec = { ...declared, flag, group: 'general' } as OptionSpec;
  if (spec.default !== undefined) {
    const problem = checkOptionValue(spec, spec.default);
    if (problem !== undefined) throw bug(`its default ${JSON.stringify(spec.default)} ${problem}`);
  }
  return Object.freeze(spec);
}
