#!/usr/bin/env node
// npm's `install` step (run for `npm ci`, `npm install` in a clone, AND for installs from the
// registry or a tarball, where npm does not run `prepare`): builds the vendored fuse-native addon
// (vendor/fuse-native) with the node-gyp that npm ships. Plain JavaScript: it runs before tsc.
//
// A build that cannot run (no compiler, no python3) does not fail the install: --help, --erase,
// NBD serving and the library API work without FUSE, and a FUSE mount then says what to install
// (S3B_FUSE_UNAVAILABLE). The message below names the Debian packages.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const addon = join(root, 'vendor', 'fuse-native');
// Set by npm for every script it runs; a manual run falls back to node-gyp on the PATH.
const gyp = process.env.npm_config_node_gyp;
const [command, args] = gyp && existsSync(gyp)
  ? [process.execPath, [gyp, 'rebuild', '-C', addon]]
  : ['node-gyp', ['rebuild', '-C', addon]];
const started = Date.now();
const result = spawnSync(command, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
if (result.status === 0) {
  process.stdout.write(`s3backer: built the FUSE binding (vendor/fuse-native) in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
} else {
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}`.trim().split('\n').slice(-15).join('\n');
  process.stderr.write([
    's3backer: WARNING: the FUSE binding (vendor/fuse-native) could not be built, so FUSE mounts will not work.',
    '  On Debian/Ubuntu install what the build and FUSE need, then rebuild it:',
    '    sudo apt-get install -y make g++ python3 libfuse2 fuse3',
    '    npm rebuild s3backer        (or, in a clone: npm ci)',
    '  --help, --erase, NBD serving (--nbd-listen) and the library API work without it.',
    '  The build said:',
    ...output.split('\n').map((line) => `    ${line}`),
    '',
  ].join('\n'));
}
