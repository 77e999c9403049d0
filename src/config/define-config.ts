import type { OPTION_TABLE, OptionKey, OptionValues } from './options.js';
import type { S3BackerPlugin } from '../engine/plugin.js';

type Table = typeof OPTION_TABLE;

/** Keys a config file may set: every option except the command-line-only ones (`erase`, `help`, ...). */
export type ConfigFileKey = { [K in OptionKey]: Table[K] extends { cliOnly: true } ? never : K }[OptionKey];

/**
 * Option values as a config file writes them: sizes may also be strings such as `'64k'` or `'100g'`,
 * and octal modes strings such as `'0644'` (JSON has no octal numbers; a number is taken as it is, so
 * write `0o644` in TypeScript).
 */
export type UserOptionValues = {
  [K in ConfigFileKey]?: Table[K] extends { type: 'size' | 'octal' } ? number | string : OptionValues[K];
};

/**
 * One entry of `plugins`. `false`, `null` and `undefined` are skipped, so `cond && myPlugin()` works;
 * `[plugin, false]` disables an entry without deleting it (unified's preset style). A string names
 * a plugin package, resolved from the config file's directory and called with the options of
 * `['package-name', { ...options }]` (docs/plugins.md, "Naming plugins in a JSON config").
 */
export type UserPluginEntry = S3BackerPlugin | string | false | null | undefined
  | readonly [S3BackerPlugin, boolean]
  | readonly [string, Readonly<Record<string, unknown>> | boolean];

/** What a config file exports (vite's UserConfig): everything optional; defaults apply later. */
export interface UserConfig extends UserOptionValues {
  /** `bucket[/subdir]` (or, with `test: true`, the directory); the command line's first argument wins. */
  bucket?: string;
  /** Where to mount; the command line's second argument wins. */
  mountPoint?: string;
  /**
   * Third-party plugins, applied in list order BEFORE the built-ins the options select: at equal
   * stages their taps run first (docs/plugins.md, Order).
   */
  plugins?: readonly UserPluginEntry[];
}

/** The command a config function is evaluated for (vite's ConfigEnv). */
export type ConfigCommand = 'mount' | 'erase' | 'reset-mounted-flag';

export interface ConfigEnv {
  command: ConfigCommand;
}

export type UserConfigFn = (env: ConfigEnv) => UserConfig | Promise<UserConfig>;
export type UserConfigExport = UserConfig | Promise<UserConfig> | UserConfigFn;

/**
 * Identity function that gives a config file its types (vite's defineConfig): an object, a promise of
 * one, or a function of the command (`({ command }) => ({ readOnly: command !== 'mount' })`).
 */
export function defineConfig(config: UserConfig): UserConfig;
export function defineConfig(config: Promise<UserConfig>): Promise<UserConfig>;
export function defineConfig(config: UserConfigFn): UserConfigFn;
export function defineConfig(config: UserConfigExport): UserConfigExport;
export function defineConfig(config: UserConfigExport): UserConfigExport {
  return config;
}
