import type { S3BackerPlugin } from '../engine/plugin.js';
import { S3BackerError } from '../errors/s3backer-error.js';
import { isPlugin } from './is-plugin.js';
import { loadPluginPackage } from './load-plugin-package.js';

/** One enabled entry of a config file's `plugins`: a plugin object, or a package to load. */
type PluginEntry =
  | { kind: 'plugin'; plugin: S3BackerPlugin }
  | { kind: 'package'; name: string; options: Record<string, unknown> | undefined; index: number };

/**
 * `plugins` of a config file, checked (unified's preset style): `false`/`null`/`undefined` and
 * `[entry, false]` are skipped, the order is kept. An entry is a plugin object, `[plugin, true]`,
 * or a package name: `"name"`, `["name", { options }]`, `["name", true]`.
 */
function pluginEntries(value: unknown, where: string): PluginEntry[] {
  if (!Array.isArray(value)) throw invalid(where, 'plugins', 'must be an array of plugins or package names');
  const entries: PluginEntry[] = [];
  value.forEach((entry: unknown, index) => {
    if (entry === false || entry === null || entry === undefined) return;
    let item = entry;
    let options: Record<string, unknown> | undefined;
    if (Array.isArray(entry)) {
      const second: unknown = entry[1];
      const packageOptions = typeof entry[0] === 'string' && typeof second === 'object' && second !== null && !Array.isArray(second);
      if (entry.length !== 2 || (typeof second !== 'boolean' && !packageOptions)) {
        throw invalid(where, `plugins[${index}]`, 'must be a plugin, [plugin, true|false], a package name, or ["package-name", { options } | true | false]');
      }
      if (second === false) return;
      item = entry[0];
      if (packageOptions) options = second as Record<string, unknown>;
    }
    if (typeof item === 'string') {
      if (item === '') throw invalid(where, `plugins[${index}]`, 'is an empty package name');
      entries.push({ kind: 'package', name: item, options, index });
      return;
    }
    if (!isPlugin(item)) {
      throw invalid(where, `plugins[${index}]`, 'is not a plugin (an object with a string `name` and an `apply(engine)` function) nor a package name');
    }
    entries.push({ kind: 'plugin', plugin: item });
  });
  return entries;
}

/**
 * The file's plugins when every entry is a plugin object (a typed config built them): checked
 * synchronously. Package names need loadConfigFilePlugins (they are imported).
 */
export function configFilePlugins(value: unknown, where: string): S3BackerPlugin[] {
  return pluginEntries(value, where).map((entry) => {
    if (entry.kind === 'plugin') return entry.plugin;
    throw invalid(where, `plugins[${entry.index}]`, `names the package "${entry.name}", which is loaded with the config file (loadConfigFilePlugins), not here`);
  });
}

/**
 * The file's plugins, package names loaded (load-plugin-package.ts) from the directory of the
 * config file at `filePath`, one after the other in list order (a factory may log or check).
 */
export async function loadConfigFilePlugins(value: unknown, filePath: string): Promise<S3BackerPlugin[]> {
  const where = `config file "${filePath}"`;
  const plugins: S3BackerPlugin[] = [];
  for (const entry of pluginEntries(value, where)) {
    plugins.push(entry.kind === 'plugin' ? entry.plugin
      : await loadPluginPackage(entry.name, entry.options, { configPath: filePath, where: `plugins[${entry.index}] in ${where}` }));
  }
  return plugins;
}

function invalid(where: string, key: string, reason: string): S3BackerError {
  return new S3BackerError('S3B_CONFIG_INVALID', `${key} in ${where}: ${reason}; fix the value`);
}
