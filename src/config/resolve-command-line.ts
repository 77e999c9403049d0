import { parseArgv } from './parse-argv.js';
import { loadConfigFile, type LoadedConfigFile } from './load-config-file.js';
import { loadConfigFilePlugins } from './config-file-plugins.js';
import { OptionCatalog } from './option-catalog.js';
import { resolveConfig, detectCommand, type CommandName, type ResolvedCommandLine } from './merge-config.js';
import type { S3BackerPlugin } from '../engine/plugin.js';
import { S3BackerError } from '../errors/s3backer-error.js';

export interface CommandLine extends ResolvedCommandLine {
  /** The options the command line was parsed with: the built-ins plus the plugins' (for `--help`). */
  catalog: OptionCatalog;
  /** For `--help`: why the plugins' options are not listed (the config file or a plugin failed to load). */
  helpNote?: string;
}

export interface ResolveCommandLineOptions {
  /** Where the config file is searched and relative paths start; defaults to process.cwd(). */
  cwd?: string;
  /** Reads a `--configFile` flag file (parse-argv.ts). */
  readFile?: (path: string) => string;
}

/**
 * argv → the resolved command, in two passes, because the config file (which `--config` may name)
 * decides which plugins there are, and so which options exist:
 *  1. a tolerant parse that only finds `--config` and the command (unknown names are recorded, not
 *     thrown: they may be plugin options);
 *  2. the config file, its plugins (package names imported), and the catalog of every option;
 *  3. the strict parse with that catalog, which throws the same first error a parse without
 *     plugins throws (an unknown name that no plugin declares is S3B_CONFIG_UNKNOWN_OPTION), then
 *     the merge (merge-config.ts).
 * `--version` reads no config file. `--help` reads it if it can: when it fails, the help lists the
 * built-in options and says why the plugins' are missing.
 */
export async function resolveCommandLine(argv: readonly string[], options: ResolveCommandLineOptions = {}): Promise<CommandLine> {
  const cwd = options.cwd ?? process.cwd();
  const parse = { ...(options.readFile === undefined ? {} : { readFile: options.readFile }) };
  const first = parseArgv(argv, { ...parse, tolerant: true });
  const problems = first.problems ?? [];
  let command: CommandName;
  try {
    command = detectCommand(first);
  } catch (error) {
    // The strict pass below reports the earlier problem, or this one again.
    if (problems.length === 0) throw error;
    command = 'mount';
  }

  let file: LoadedConfigFile | null = null;
  let plugins: S3BackerPlugin[] = [];
  let catalog = OptionCatalog.BUILT_IN;
  let helpNote: string | undefined;
  if (command !== 'version') {
    try {
      // A config function sees the command it configures; --help shows what a mount would have.
      file = await loadConfigFile({ explicitPath: first.options.config as string | undefined, cwd, command: command === 'help' ? 'mount' : command });
      plugins = file?.config.plugins == null ? [] : await loadConfigFilePlugins(file.config.plugins, file.filepath);
      catalog = OptionCatalog.forPlugins(plugins);
    } catch (error) {
      if (command === 'help' && error instanceof S3BackerError) {
        helpNote = `Options of plugins are not listed: ${error.message} [${error.code}]`;
        file = null;
        plugins = [];
      } else {
        // Without the plugins the command line was checked as it always is: its first problem
        // comes first, as when the command line was parsed before any config file was read.
        throw problems[0] ?? error;
      }
    }
  }

  const cli = parseArgv(argv, { ...parse, catalog });
  const resolved = resolveConfig({ cli, file: file?.config ?? null, cwd, plugins, catalog, ...(file === null ? {} : { filePath: file.filepath }) });
  return Object.freeze({ ...resolved, catalog, ...(helpNote === undefined ? {} : { helpNote }) });
}
