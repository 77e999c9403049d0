import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from '../helpers/run-command.js';
import { processAlive } from '../helpers/s3backer-process.js';
import { startS3rver, s3rverFlags, type S3rverServer } from '../helpers/s3rver-server.js';
import { fuseUnavailableReason } from '../helpers/fuse-support.js';
import { mountedPaths } from '../../src/frontends/fuse/mount-table.js';

/**
 * The package as a user gets it: `npm pack`, `npm install -g` of the tarball into a temporary
 * prefix (dependencies from npm's cache, filled by `npm ci`), the installed command mounting a
 * volume against s3rver, and a third-party plugin type-checked against the installed `.d.ts`
 * files and run through the installed engine.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURE = join(ROOT, 'test', 'fixtures', 'third-party-plugin');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };

let work: string | undefined;
let server: S3rverServer | undefined;
after(async () => {
  await server?.stop();
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

let tarball: string;
let prefix: string;
let installed: string;
const npm = (args: string[], timeoutMs: number) => runCommand('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { timeoutMs, env: { ...process.env, npm_config_update_notifier: 'false' } });

test('npm pack ships what the package needs and no compiled tests or source maps', { timeout: 120_000 }, async () => {
  work = await mkdtemp(join(tmpdir(), 's3backer-package-'));
  // dist is fresh: npm test compiled it. --ignore-scripts: no second tsc run.
  const packed = await npm(['pack', '--ignore-scripts', '--pack-destination', work, ROOT], 60_000);
  assert.equal(packed.code, 0, packed.stderr);
  tarball = join(work, `${pkg.name}-${pkg.version}.tgz`);
  const listing = await runCommand('tar', ['tzf', tarball]);
  const files = listing.stdout.trim().split('\n').map((line) => line.replace(/^package\//, ''));
  assert.deepEqual(files.filter((file) => /\.test\.js$|\.map$|^dist\/scripts\/|^dist\/test\/(?!conformance\/)|^src\/|^test\//.test(file)), []);
  for (const needed of ['bin/s3backer', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/plugins/index.d.ts', 'dist/test/conformance/index.d.ts',
    'scripts/install-addon.mjs', 'vendor/fuse-native/fuse-native.c', 'vendor/fuse-native/binding.gyp', 'docs/plugins.md', 'README.md']) {
    assert.ok(files.includes(needed), `${needed} is shipped`);
  }
  assert.ok(!files.some((file) => file.startsWith('vendor/fuse-native/build/')), 'no prebuilt addon of this machine');
});

test('npm install -g of the tarball builds the FUSE addon and gives a working s3backer', { timeout: 600_000 }, async () => {
  assert.ok(tarball, 'needs the packed tarball');
  prefix = join(work!, 'prefix');
  const started = Date.now();
  const install = await npm(['install', '-g', '--prefix', prefix, '--prefer-offline', tarball], 540_000);
  assert.equal(install.code, 0, install.stderr);
  console.log(`# npm install -g of the tarball took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  installed = join(prefix, 'lib', 'node_modules', pkg.name);
  assert.ok((await readdir(join(installed, 'vendor', 'fuse-native', 'build', 'Release'))).includes('fuse.node'), 'the install step built the addon');
  const bin = join(prefix, 'bin', 's3backer');
  const version = await runCommand(bin, ['--version']);
  assert.equal(version.stdout, `s3backer version ${pkg.version}\n`);
  const help = await runCommand(bin, ['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--nbd-listen=ADDRESS/);
});

test('the installed command mounts a volume on s3rver, and the data survives a remount', { timeout: 120_000 }, async (t) => {
  const reason = fuseUnavailableReason();
  if (reason) return t.skip(reason);
  assert.ok(installed, 'needs the installed package');
  server = await startS3rver({ buckets: ['installed'] });
  const bin = join(prefix, 'bin', 's3backer');
  const mnt = join(work!, 'mnt');
  await mkdir(mnt);
  const data = Buffer.alloc(65536, 0xa5);
  try {
    for (const round of [1, 2]) {
      const mount = await runCommand(bin, [...s3rverFlags(server), '--size=1m', '--blockSize=64k', 'installed', mnt], { timeoutMs: 60_000 });
      assert.equal(mount.code, 0, mount.stderr);
      if (round === 1) await writeFile(join(mnt, 'file'), data, { flag: 'r+' });
      else assert.deepEqual((await readFile(join(mnt, 'file'))).subarray(0, data.length), data);
      assert.equal((await runCommand('umount', [mnt])).code, 0);
      // The background process uploads and clears the mounted flag after the unmount, then exits.
      const pid = Number(/s3backer process (\d+) for .* started/.exec(mount.stderr)?.[1]);
      assert.ok(pid > 0, mount.stderr);
      for (let i = 0; i < 300 && processAlive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 100));
      assert.ok(!processAlive(pid), 'the background process exited after the unmount');
    }
  } finally {
    if ((await mountedPaths()).has(mnt)) await runCommand('umount', ['-l', mnt]);
  }
});

test('a third-party codec, store and observer type-check against the installed .d.ts and run on the installed engine', { timeout: 120_000 }, async () => {
  assert.ok(installed, 'needs the installed package');
  const project = join(work!, 'third-party');
  await cp(FIXTURE, project, { recursive: true });
  await mkdir(join(project, 'node_modules'));
  await symlink(installed, join(project, 'node_modules', pkg.name));
  await symlink(join(ROOT, 'node_modules', '@types'), join(project, 'node_modules', '@types'));
  await writeFile(join(project, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  await writeFile(join(project, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noUnusedLocals: true, skipLibCheck: false, types: ['node'], outDir: '.' },
    files: ['plugins.ts'],
  }));
  const compiled = await runCommand(process.execPath, [TSC, '-p', project], { timeoutMs: 90_000 });
  assert.equal(compiled.code, 0, `tsc against the installed package:\n${compiled.stdout}${compiled.stderr}`);
  const run = await runCommand(process.execPath, [join(project, 'run.mjs')], { timeoutMs: 30_000 });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /third-party plugins ok/);
});
