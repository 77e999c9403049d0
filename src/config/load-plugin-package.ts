import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { S3BackerPlugin } from '../engine/plugin.js';
import { S3BackerError } from '../errors/s3backer-error.js';
import { isPlugin } from './is-plugin.js';

export interface PluginPackageContext {
  /** The config file that names the package: it is resolved from there, as its own imports would be. */
  configPath: string;
  /** Where the entry is, for messages: `plugins[2] in config file "/etc/s3backer/.s3backerrc.json"`. */
  where: string;
}

/**
 * A plugin named by package in a config file (`"plugins": ["s3backer-plugin-xor"]`): resolved from
 * the config file's directory (createRequire at the file, so its node_modules and their parents
 * are searched, never s3backer's own), imported, and its factory (the default export, else a named
 * export `plugin`) called with the entry's options. Every failure is S3B_CONFIG_FILE naming the
 * package and the entry; a factory that refuses its options keeps its own S3BackerError.
 */
export async function loadPluginPackage(name: string, options: unknown, context: PluginPackageContext): Promise<S3BackerPlugin> {
  const file = resolvePackage(name, context);
  let module: Record<string, unknown>;
  try {
    module = await import(pathToFileURL(file).href) as Record<string, unknown>;
  } catch (error) {
    throw new S3BackerError('S3B_CONFIG_FILE', `plugin package "${name}" (${context.where}) failed to load from ${file}: ${reasonOf(error)}; ` +
      'reinstall it, or check that it runs on this Node version', { cause: error });
  }
  // A CommonJS package's module.exports arrives as `default`; its `plugin` property may not be a named export.
  const defaultExport = module.default as Record<string, unknown> | undefined;
  const factory = [module.default, module.plugin, typeof defaultExport === 'object' && defaultExport !== null ? defaultExport.plugin : undefined]
    .find((candidate): candidate is (options?: unknown) => unknown => typeof candidate === 'function');
  if (factory === undefined) {
    throw new S3BackerError('S3B_CONFIG_FILE', `plugin package "${name}" (${context.where}) exports no plugin factory: its default export ` +
      `(or a named export "plugin") must be a function returning a plugin, but it exports ${describeExports(module)}; check the package name`);
  }
  let plugin: unknown;
  try {
    plugin = await (options === undefined ? factory() : factory(options));
  } catch (error) {
    // The factory validates its options (docs/plugins.md): its own S3BackerError says what is wrong.
    if (error instanceof S3BackerError) throw error;
    throw new S3BackerError('S3B_PLUGIN_ERROR', `plugin package "${name}" (${context.where}) failed when called with ` +
      `${options === undefined ? 'no options' : `the options ${JSON.stringify(options)}`}: ${reasonOf(error)}; check the options, or report this to the plugin's author`,
      { plugin: name, cause: error });
  }
  if (!isPlugin(plugin)) {
    throw new S3BackerError('S3B_CONFIG_FILE', `plugin package "${name}" (${context.where}): its factory returned ${describeValue(plugin)}, ` +
      'not a plugin (an object with a string `name` and an `apply(engine)` function); check the package name, or report this to the plugin\'s author');
  }
  return plugin;
}

/** The file `import` would load for `name` from the config file. */
function resolvePackage(name: string, context: PluginPackageContext): string {
  const directory = dirname(context.configPath);
  if (typeof name !== 'string' || name === '') {
    throw new S3BackerError('S3B_CONFIG_FILE', `${context.where}: a plugin package name must be a non-empty string; write the name npm installs it under`);
  }
  const require = createRequire(context.configPath);
  try {
    return require.resolve(name);
  } catch (error) {
    const code = (error as { code?: string }).code;
    // An ESM-only package ("exports" with an "import" condition only) is not visible to require.resolve.
    const esm = code === 'ERR_PACKAGE_PATH_NOT_EXPORTED' ? resolveEsmEntry(name, require.resolve.paths(name) ?? []) : undefined;
    if (esm !== undefined) return esm;
    if (code === 'MODULE_NOT_FOUND') {
      throw new S3BackerError('S3B_CONFIG_FILE', `cannot find plugin package "${name}" (${context.where}) from ${directory}: ` +
        `install it there with \`npm install ${name}\` (in ${directory} or a parent directory's node_modules)`, { cause: error });
    }
    throw new S3BackerError('S3B_CONFIG_FILE', `cannot resolve plugin package "${name}" (${context.where}) from ${directory}: ${reasonOf(error)}; ` +
      `reinstall it with \`npm install ${name}\``, { cause: error });
  }
}

/** The entry an `import` of the bare package would load, read from its package.json "exports" (import, node, default conditions). */
function resolveEsmEntry(name: string, searchPaths: readonly string[]): string | undefined {
  for (const nodeModules of searchPaths) {
    const packageJson = join(nodeModules, name, 'package.json');
    if (!existsSync(packageJson)) continue;
    const manifest = JSON.parse(readFileSync(packageJson, 'utf8')) as { exports?: unknown };
    const exportsField = manifest.exports;
    const root = typeof exportsField === 'object' && exportsField !== null && !Array.isArray(exportsField) && '.' in exportsField
      ? (exportsField as Record<string, unknown>)['.'] : exportsField;
    const target = pickCondition(root);
    return target === undefined ? undefined : join(nodeModules, name, target);
  }
  return undefined;
}

function pickCondition(target: unknown): string | undefined {
  if (typeof target === 'string') return target;
  if (typeof target !== 'object' || target === null || Array.isArray(target)) return undefined;
  for (const condition of ['import', 'node', 'default']) {
    const found = pickCondition((target as Record<string, unknown>)[condition]);
    if (found !== undefined) return found;
  }
  return undefined;
}

function describeExports(module: Record<string, unknown>): string {
  const names = Object.keys(module);
  if (names.length === 0) return 'nothing';
  return names.map((key) => `${key} (${describeValue(module[key])})`).join(', ');
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value === 'undefined' ? 'undefined' : `a ${typeof value}`;
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
