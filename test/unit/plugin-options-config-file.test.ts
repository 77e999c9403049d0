import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigFilePlugins } from '../../src/config/config-file-plugins.js';
import { resolveCommandLine } from '../../src/config/resolve-command-line.js';
import { resolveConfig } from '../../src/config/merge-config.js';
import { parseArgv } from '../../src/config/parse-argv.js';
import { helpText } from '../../src/config/help-text.js';
import { S3BackerError } from '../../src/errors/s3backer-error.js';
import type { ErrorCode } from '../../src/errors/codes.js';

/**
 * Plugins named by package in a JSON (or typed) config file, resolved from the file's directory,
 * and the two-pass command line: the config file decides which plugin options exist.
 */

// Compiled to dist/test/unit/: the repository root is three levels up.
const XOR_PACKAGE = fileURLToPath(new URL('../../../test/fixtures/plugin-packages/s3backer-plugin-xor/', import.meta.url));

const cleanups: string[] = [];
after(async () => {
  for (const dir of cleanups) await rm(dir, { recursive: true, force: true });
});

/** A directory outside the repository (no node_modules above it) with these files; the xor package is installed in its node_modules. */
async function project(files: Record<string, string> = {}, options: { xor?: boolean } = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 's3backer-plugin-options-'));
  cleanups.push(dir);
  if (options.xor !== false) await cp(XOR_PACKAGE, join(dir, 'node_modules', 's3backer-plugin-xor'), { recursive: true });
  for (const [name, content] of Object.entries(files)) {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await writeFile(join(dir, name), content);
  }
  return dir;
}

const json = (value: unknown) => JSON.stringify(value, null, 2);

async function rejectsCode(promise: Promise<unknown>, code: ErrorCode, message: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof S3BackerError, `expected an S3BackerError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.match(error.message, message);
    return true;
  });
}

/** Packages of every shape a factory may come in. */
const PACKAGES: Record<string, string> = {
  // CommonJS, the factory as a named export `plugin` (module.exports.plugin).
  'node_modules/cjs-plugin/package.json': json({ name: 'cjs-plugin', main: 'lib/main.js' }),
  'node_modules/cjs-plugin/lib/main.js': 'exports.plugin = (options) => ({ name: "cjs", given: options, apply() {} });\n',
  // ESM with "main", an async factory as the default export.
  'node_modules/async-plugin/package.json': json({ name: 'async-plugin', type: 'module', main: 'index.js' }),
  'node_modules/async-plugin/index.js': 'export default async (options) => ({ name: "async", given: options, apply() {} });\n',
  // A scoped package, the factory as an ESM named export `plugin`.
  'node_modules/@acme/s3backer-plugin/package.json': json({ name: '@acme/s3backer-plugin', type: 'module', exports: './plugin.js' }),
  'node_modules/@acme/s3backer-plugin/plugin.js': 'export const plugin = () => ({ name: "acme", apply() {} });\n',
  // Broken ones.
  'node_modules/not-a-function/package.json': json({ name: 'not-a-function', type: 'module', main: 'index.js' }),
  'node_modules/not-a-function/index.js': 'export default 42;\nexport const other = {};\n',
  'node_modules/not-a-plugin/package.json': json({ name: 'not-a-plugin', type: 'module', main: 'index.js' }),
  'node_modules/not-a-plugin/index.js': 'export default () => ({ name: "half" });\n',
  'node_modules/syntax-error/package.json': json({ name: 'syntax-error', type: 'module', main: 'index.js' }),
  'node_modules/syntax-error/index.js': 'export default () => {{;\n',
};

test('package names load from the config file\'s directory: string, [name, options], [name, true|false]; order kept', { timeout: 30_000 }, async () => {
  const dir = await project(PACKAGES);
  const configPath = join(dir, '.s3backerrc.json');
  const plugins = await loadConfigFilePlugins([
    's3backer-plugin-xor', ['cjs-plugin', { level: 3 }], ['async-plugin', true], ['not-a-function', false], false, '@acme/s3backer-plugin',
  ], configPath);
  assert.deepEqual(plugins.map((plugin) => plugin.name), ['xor', 'cjs', 'async', 'acme']);
  assert.deepEqual((plugins[1] as unknown as { given: unknown }).given, { level: 3 }, 'the entry\'s options reach the factory');
  assert.equal((plugins[2] as unknown as { given: unknown }).given, undefined, 'no options: the factory\'s own defaults');
  assert.deepEqual(Object.keys(plugins[0]!.options ?? {}), ['xorKey'], 'the ESM-only package (an "import" condition only) loads too');
  // Options of a package's factory are checked by the factory: a foreign error names the package.
  await rejectsCode(loadConfigFilePlugins([['s3backer-plugin-xor', { token: 5 }]], configPath), 'S3B_PLUGIN_ERROR',
    /plugin package "s3backer-plugin-xor" \(plugins\[0\] in config file ".*\.s3backerrc\.json"\) failed when called with the options \{"token":5\}: xor: token 5 must look like x-name/);
});

test('a package that is missing, exports no factory, or whose factory returns no plugin: S3B_CONFIG_FILE', { timeout: 30_000 }, async () => {
  const dir = await project(PACKAGES);
  const configPath = join(dir, '.s3backerrc.json');
  await rejectsCode(loadConfigFilePlugins(['s3backer-plugin-xor', 's3backer-plugin-nope'], configPath), 'S3B_CONFIG_FILE',
    new RegExp(`^cannot find plugin package "s3backer-plugin-nope" \\(plugins\\[1\\] in config file ".*"\\) from ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: install it there with \`npm install s3backer-plugin-nope\``));
  await rejectsCode(loadConfigFilePlugins(['not-a-function'], configPath), 'S3B_CONFIG_FILE',
    /plugin package "not-a-function" \(plugins\[0\] .*\) exports no plugin factory: .* but it exports default \(a number\), other \(an object\)/);
  await rejectsCode(loadConfigFilePlugins(['not-a-plugin'], configPath), 'S3B_CONFIG_FILE', /its factory returned an object, not a plugin/);
  await rejectsCode(loadConfigFilePlugins(['syntax-error'], configPath), 'S3B_CONFIG_FILE', /plugin package "syntax-error" .* failed to load from .*index\.js: /);
  await rejectsCode(loadConfigFilePlugins([['cjs-plugin', 'fast']], configPath), 'S3B_CONFIG_INVALID',
    /plugins\[0\] in config file .*: must be a plugin, \[plugin, true\|false\], a package name, or \["package-name", \{ options \} \| true \| false\]/);
  // The typed path (a config that built its plugins) refuses names it cannot load synchronously.
  assert.throws(() => resolveConfig({ cli: parseArgv(['b', '/m']), file: { plugins: ['cjs-plugin'] }, cwd: dir }),
    (error: unknown) => error instanceof S3BackerError && /names the package "cjs-plugin"/.test(error.message));
});

test('the package resolves from the config file\'s directory, not the current one', { timeout: 30_000 }, async () => {
  const elsewhere = await project({}, { xor: false });
  const etc = await project({ '.s3backerrc.json': json({ plugins: ['s3backer-plugin-xor'], xorKey: 11 }) });
  const resolved = await resolveCommandLine(['--config', join(etc, '.s3backerrc.json'), '--store=memory', 'b', '/m'], { cwd: elsewhere });
  assert.deepEqual(resolved.plugins.map((plugin) => plugin.name), ['xor']);
  assert.deepEqual(resolved.pluginOptions, { xor: { xorKey: 11 } });
  await rejectsCode(resolveCommandLine(['--store=memory', 'b', '/m'], { cwd: await project({ '.s3backerrc': json({ plugins: ['s3backer-plugin-xor'] }) }, { xor: false }) }),
    'S3B_CONFIG_FILE', /cannot find plugin package "s3backer-plugin-xor" .*npm install s3backer-plugin-xor/);
});

test('two passes: flags, -o items and flag files of a plugin the config file names; the file\'s key; the default', { timeout: 30_000 }, async () => {
  const cwd = await project({ '.s3backerrc.json': json({ plugins: ['s3backer-plugin-xor'], store: 'memory' }), 'xor.flags': '--xorKey=44\n' });
  const run = (argv: string[]) => resolveCommandLine(argv, { cwd });
  assert.equal((await run(['--xorKey=7', 'b', '/m'])).pluginOptions.xor!.xorKey, 7);
  assert.equal((await run(['-o', 'size=1m,xorKey=8', 'b', '/m'])).pluginOptions.xor!.xorKey, 8);
  assert.equal((await run(['-F', join(cwd, 'xor.flags'), 'b', '/m'])).pluginOptions.xor!.xorKey, 44);
  assert.equal((await run(['b', '/m'])).pluginOptions.xor!.xorKey, 90, 'the declared default');
  const withKey = await project({ '.s3backerrc.json': json({ plugins: ['s3backer-plugin-xor'], xorKey: 9 }) });
  assert.equal((await resolveCommandLine(['b', '/m'], { cwd: withKey })).pluginOptions.xor!.xorKey, 9);
  assert.equal((await resolveCommandLine(['--xorKey=10', 'b', '/m'], { cwd: withKey })).pluginOptions.xor!.xorKey, 10);
  await rejectsCode(run(['--xorKey=0', 'b', '/m']), 'S3B_CONFIG_INVALID', /^--xorKey=0: must be at least 1/);
  await rejectsCode(run(['--xorkey=7', 'b', '/m']), 'S3B_CONFIG_UNKNOWN_OPTION', /did you mean "--xorKey"\?/);
  // The config file may be named after the flags that only a plugin knows.
  const other = await project({}, { xor: false });
  assert.equal((await resolveCommandLine(['--xorKey=3', '--config', join(cwd, '.s3backerrc.json'), 'b', '/m'], { cwd: other })).pluginOptions.xor!.xorKey, 3);
});

test('without a plugin that declares it, a flag is unknown exactly as before (also when the config file is broken)', { timeout: 30_000 }, async () => {
  const before = (argv: string[]) => { try { parseArgv(argv); } catch (error) { return error as S3BackerError; } throw new Error('no error'); };
  const none = await project({}, { xor: false });
  for (const argv of [['--xorKey=7', 'b', '/m'], ['-o', 'xorKey=7', 'b', '/m'], ['--xorKey=7', '--size=12q', 'b'], ['--blocksize=1k', '--erase', '--reset-mounted-flag', 'b']]) {
    const expected = before(argv);
    await rejectsCode(resolveCommandLine(argv, { cwd: none }), expected.code, new RegExp(`^${expected.message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
  }
  const broken = await project({ '.s3backerrc.json': '{ "plugins": [' });
  const expected = before(['--xorKey=7', 'b', '/m']);
  await rejectsCode(resolveCommandLine(['--xorKey=7', 'b', '/m'], { cwd: broken }), 'S3B_CONFIG_UNKNOWN_OPTION', new RegExp(`^${expected.message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
  await rejectsCode(resolveCommandLine(['b', '/m'], { cwd: broken }), 'S3B_CONFIG_FILE', /cannot load config file/);
  // Two plugins fighting over a name: the collision, naming both.
  const clash = await project({
    's3backer.config.mjs': 'export default { plugins: ["s3backer-plugin-xor", { name: "mine", options: { xorKey: { type: "string", doc: "mine" } }, apply() {} }] };\n',
  });
  await rejectsCode(resolveCommandLine(['b', '/m'], { cwd: clash }), 'S3B_CONFIG_INVALID',
    /plugin "mine" declares the option "xorKey", but the name "xorKey" is already option --xorKey of plugin "xor"/);
});

test('a typed config names packages too, and its own plugin objects may declare options', { timeout: 30_000 }, async () => {
  const cwd = await project({
    's3backer.config.ts': `import { defineConfig, type S3BackerPlugin } from 's3backer';
const seen: Record<string, unknown>[] = [];
const mine: S3BackerPlugin = {
  name: 'mine',
  options: { mineLevel: { type: 'integer', min: 0, max: 9, default: 1, doc: 'How much.' } },
  apply(engine) { seen.push(engine.options); },
};
export default defineConfig({ store: 'memory', plugins: [['s3backer-plugin-xor', { token: 'x-xor' }], mine], ...{ mineLevel: 4 } });
`,
  });
  const resolved = await resolveCommandLine(['--xorKey=5', 'b', '/m'], { cwd });
  assert.deepEqual(resolved.plugins.map((plugin) => plugin.name), ['xor', 'mine']);
  assert.deepEqual(resolved.pluginOptions, { xor: { xorKey: 5 }, mine: { mineLevel: 4 } });
});

test('--help lists the options of the config file\'s plugins, or says in one line why it cannot', { timeout: 30_000 }, async () => {
  const good = await project({ '.s3backerrc.json': json({ plugins: ['s3backer-plugin-xor'] }) });
  const help = await resolveCommandLine(['--help'], { cwd: good });
  assert.equal(help.command, 'help');
  assert.equal(help.helpNote, undefined);
  assert.match(helpText({ catalog: help.catalog }), /\nPlugin xor:\n  --xorKey=N +Byte every stored block body is XORed with\. \(default: 90\)\n/);
  assert.equal((await resolveCommandLine(['--help', '--xorKey=7'], { cwd: good })).command, 'help', 'a plugin flag beside --help is fine');

  const missing = await project({ '.s3backerrc.json': json({ plugins: ['s3backer-plugin-xor'] }) }, { xor: false });
  const note = (await resolveCommandLine(['--help'], { cwd: missing })).helpNote;
  assert.match(note ?? '', /^Options of plugins are not listed: cannot find plugin package "s3backer-plugin-xor" .*npm install s3backer-plugin-xor.* \[S3B_CONFIG_FILE\]$/);
  const broken = await project({ '.s3backerrc.json': '{' });
  assert.match((await resolveCommandLine(['-h'], { cwd: broken })).helpNote ?? '', /cannot load config file/);
  // --version reads no config file at all.
  assert.equal((await resolveCommandLine(['--version'], { cwd: broken })).command, 'version');
});
