import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cosmiconfig, type Loader } from 'cosmiconfig';
import { createJiti } from 'jiti';
import type { ConfigCommand, UserConfig } from './define-config.js';
import { S3BackerError, isS3BackerError } from '../errors/s3backer-error.js';

export interface LoadConfigFileOptions {
  /** `--config FILE` (or `--config=FILE`): load exactly this file (relative to `cwd`); a missing file is an error. */
  explicitPath?: string;
  /** Where to search when there is no explicit path: this directory only, never a parent. */
  cwd: string;
  /** Passed to a config that exports a function (`defineConfig(({ command }) => ...)`). */
  command: ConfigCommand;
}

export interface LoadedConfigFile {
  /** What the file exports (a function already called, a promise already awaited); not validated yet. */
  config: UserConfig;
  filepath: string;
}

/** The typed config files, searched in this order (the first that exists and is not empty wins). */
export const CONFIG_SEARCH_PLACES: readonly string[] = Object.freeze([
  's3backer.config.ts', 's3backer.config.mts', 's3backer.config.mjs', 's3backer.config.js',
  '.s3backerrc.json', '.s3backerrc',
]);

/**
 * Find and evaluate the typed config file (not the C tool's `--configFile` flag file, see parse-argv.ts).
 * Resolves to null when nothing is found; every failure is an S3B_CONFIG_FILE error naming the path.
 */
export async function loadConfigFile(options: LoadConfigFileOptions): Promise<LoadedConfigFile | null> {
  const env = { command: options.command };
  const explicitPath = options.explicitPath === undefined ? undefined : resolve(options.cwd, options.explicitPath);
  let result;
  try {
    // Note: cosmiconfig() itself also reads its own "meta config" (a `cosmiconfig` key in package.json or
    // .config/config.* of process.cwd()); a failure there is reported like any other config-file error.
    const explorer = cosmiconfig('s3backer', {
      searchPlaces: [...CONFIG_SEARCH_PLACES],
      // Only the given directory: a mount started from some directory must never pick up a stray config
      // from a parent (or from a package.json: none is in searchPlaces).
      searchStrategy: 'none',
      cache: false,
      loaders: {
        '.ts': loadWithJiti, '.mts': loadWithJiti, '.cts': loadWithJiti,
        '.js': loadWithJiti, '.mjs': loadWithJiti, '.cjs': loadWithJiti,
        '.json': loadJson,
        // `.s3backerrc` is JSON too (cosmiconfig would read it as YAML).
        noExt: loadJson,
      },
    });
    result = explicitPath === undefined ? await explorer.search(options.cwd) : await explorer.load(explicitPath);
  } catch (error) {
    if (isS3BackerError(error)) throw error;
    const path = explicitPath ?? (error as { filepath?: string } | null)?.filepath ?? options.cwd;
    throw configFileError(path, error, explicitPath !== undefined && (error as { code?: string } | null)?.code === 'ENOENT'
      ? 'check the --config path' : undefined);
  }
  if (result === null) return null;
  const filepath = result.filepath;
  // An empty file (cosmiconfig's isEmpty) configures nothing.
  let config: unknown = result.isEmpty ? {} : result.config;
  try {
    if (typeof config === 'function') config = await (config as (env: unknown) => unknown)(env);
    config = await config;
  } catch (error) {
    throw configFileError(filepath, error);
  }
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new S3BackerError('S3B_CONFIG_FILE', `config file "${filepath}" must export an object (or a function returning one), ` +
      `not ${config === null ? 'null' : Array.isArray(config) ? 'an array' : typeof config}; write \`export default defineConfig({ ... })\``);
  }
  return { config: config as UserConfig, filepath };
}

/**
 * Our own loader for `.ts`/`.mts`/`.js`/`.mjs` (and `.cts`/`.cjs`), instead of cosmiconfig's:
 * - cosmiconfig's TS loader compiles with `typescript` (a run-time dependency we do not want) and writes
 *   a temporary `.mjs` next to the config, which fails in a read-only directory such as /etc/s3backer
 *   and races when two mounts start at once. jiti transpiles in memory; with `fsCache: false` it writes
 *   nothing anywhere.
 * - A config outside a project (/etc/s3backer/s3backer.config.ts) has no node_modules, so
 *   `import { defineConfig } from 's3backer'` would not resolve: both public specifiers are aliased to
 *   the running installation. jiti imports those ESM files natively, so the config shares the running
 *   module instances (classes, error types) with the engine.
 * A fresh jiti instance per load with `moduleCache: false`: a reloaded config is read again.
 */
const loadWithJiti: Loader = async (filepath) => {
  const jiti = createJiti(import.meta.url, {
    fsCache: false,
    moduleCache: false,
    interopDefault: true,
    alias: installationAliases(),
  });
  try {
    return await jiti.import(filepath, { default: true });
  } catch (error) {
    throw configFileError(filepath, error);
  }
};

const loadJson: Loader = (filepath, content) => {
  try {
    return JSON.parse(content) as unknown;
  } catch (error) {
    throw configFileError(filepath, error);
  }
};

/**
 * `s3backer` and `s3backer/plugins` as this installation's files. This module compiles to
 * dist/src/config/load-config-file.js, next to dist/src/index.js and two levels below dist/plugins/.
 * The paths are aliased whether or not they exist yet: jiti only resolves an alias when a config
 * imports it, and then a missing file is a clear "cannot find module" error.
 */
function installationAliases(): Record<string, string> {
  return {
    's3backer/plugins': fileURLToPath(new URL('../../plugins/index.js', import.meta.url)),
    s3backer: fileURLToPath(new URL('../index.js', import.meta.url)),
  };
}

function configFileError(filepath: string, cause: unknown, hint?: string): S3BackerError {
  if (isS3BackerError(cause, 'S3B_CONFIG_FILE')) return cause;
  const reason = cause instanceof Error ? cause.message : String(cause);
  const action = hint ?? `fix the file (or move it away from ${dirname(filepath)})`;
  return new S3BackerError('S3B_CONFIG_FILE', `cannot load config file "${filepath}": ${reason}; ${action}`, { cause });
}
