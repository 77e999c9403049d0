import { readFileSync } from 'node:fs';
import { resolveCommandLine } from '../config/resolve-command-line.js';
import { helpText } from '../config/help-text.js';
import { S3BackerError } from '../errors/s3backer-error.js';

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Runs one command; resolves to the exit code. */
export async function run(argv: readonly string[]): Promise<number> {
  // Flags, config file and its plugins (which may declare options of their own), merged. --version
  // never reads the config file, --help only to list the plugins' options (they must work whatever it says).
  const resolved = await resolveCommandLine(argv);
  const { plugins, pluginOptions } = resolved;
  switch (resolved.command) {
    case 'help':
      process.stdout.write(helpText({ catalog: resolved.catalog, ...(resolved.helpNote === undefined ? {} : { note: resolved.helpNote }) }));
      return 0;
    case 'version':
      process.stdout.write(`s3backer version ${version()}\n`);
      return 0;
    // Each command loads what it needs when it runs: --help and --version load no SDK, no FUSE.
    case 'erase':
      return (await import('./commands/erase.js')).eraseCommand(resolved.config, undefined, { plugins, pluginOptions });
    case 'reset-mounted-flag':
      return (await import('./commands/reset-mounted-flag.js')).resetMountedFlagCommand(resolved.config, plugins, pluginOptions);
    case 'mount':
      // The same command serves the disk through FUSE or as an NBD export; each loads only its own front end.
      if (resolved.config.nbd || resolved.config.nbdListen !== undefined) {
        return (await import('./commands/nbd.js')).nbdCommand(resolved.config, resolved.fuseOptions, argv, plugins, pluginOptions);
      }
      return (await import('./commands/mount.js')).mountCommand(resolved.config, resolved.fuseOptions, argv, plugins, pluginOptions);
  }
}

/** The `s3backer` executable: errors print as `s3backer: <message> [CODE]` and exit 1. */
export async function main(argv: readonly string[]): Promise<void> {
  // The AWS SDK warns on stderr, once per process, that its 2027 releases will need Node 22; a
  // mounted disk's log is the wrong place for that (this package supports Node 20). The program
  // opts out here; a library user decides for their own process. An explicit setting is honoured.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // mount(8) runs /etc/fstab helpers (mount.fuse → s3backer) with no PATH at all: give the
  // programs we start (fusermount, logger, nbd-client) the shell's default search path.
  process.env.PATH ||= '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  try {
    process.exitCode = await run(argv);
  } catch (error) {
    if (error instanceof S3BackerError) {
      process.stderr.write(`s3backer: ${error.message} [${error.code}]\n`);
      if (process.env.S3BACKER_DEBUG_ERRORS) console.error(error);
    } else {
      process.stderr.write(`s3backer: unexpected error: ${error instanceof Error ? error.stack : String(error)}\n`);
    }
    process.exitCode = 1;
  }
  // Nothing may keep a failed or finished command alive (sockets of the S3 client, timers).
  setImmediate(() => process.exit());
}
