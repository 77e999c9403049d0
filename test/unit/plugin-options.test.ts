import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgv, type ParseArgvOptions } from '../../src/config/parse-argv.js';
import { resolveConfig } from '../../src/config/merge-config.js';
import { OptionCatalog } from '../../src/config/option-catalog.js';
import { helpText } from '../../src/config/help-text.js';
import type { UserConfig } from '../../src/config/define-config.js';
import type { S3BackerPlugin, PluginOptionSpec, EnginePluginApi } from '../../src/engine/plugin.js';
import { Engine } from '../../src/engine/engine.js';
import { S3BackerError } from '../../src/errors/s3backer-error.js';
import type { ErrorCode } from '../../src/errors/codes.js';
import { testConfig } from '../helpers/test-config.js';

/**
 * Options a plugin declares for itself (S3BackerPlugin.options): parsed from flags, -o lists, flag
 * files and config-file keys with the built-in options' checks, refused when a name is taken, listed
 * in --help, and handed to the plugin's apply() as engine.options.
 */

const XOR_OPTIONS: Record<string, PluginOptionSpec> = {
  xorKey: { type: 'integer', min: 1, max: 255, default: 90, metavar: 'N', doc: 'Byte every block is XORed with.' },
  xorChunk: { type: 'size', doc: 'Bytes per XOR pass.', validate: (v: number) => (v % 512 === 0 ? undefined : 'must be a multiple of 512') },
  xorVerbose: { flag: 'xor-verbose', type: 'boolean', default: false, aliases: ['X'], doc: 'Log every block XORed.' },
  xorMode: { type: 'enum', values: ['fast', 'slow'], default: 'fast', doc: 'How to XOR.' },
};

function xorPlugin(options: Record<string, PluginOptionSpec> = XOR_OPTIONS, name = 'xor'): S3BackerPlugin & { seen?: EnginePluginApi['options'] } {
  const plugin: S3BackerPlugin & { seen?: EnginePluginApi['options'] } = {
    name,
    options,
    apply(engine) { plugin.seen = engine.options; },
  };
  return plugin;
}

const CATALOG = OptionCatalog.forPlugins([xorPlugin()]);

function files(map: Record<string, string>): ParseArgvOptions {
  return { readFile: (path) => { if (!(path in map)) throw new Error(`ENOENT: ${path}`); return map[path]!; } };
}

function throwsCode(fn: () => unknown, code: ErrorCode, message: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof S3BackerError, `expected an S3BackerError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.match(error.message, message);
    return true;
  });
}

const parse = (argv: string[], options: ParseArgvOptions = {}) => parseArgv(argv, { catalog: CATALOG, ...options });

test('plugin options parse from --flag=value, -o lists and flag files, by type, beside the built-ins', { timeout: 5_000 }, () => {
  const parsed = parse(['--xorKey=7', '--xorChunk=4k', '--xor-verbose', '--xorMode=slow', '--size=1m', 'bucket']);
  assert.deepEqual(parsed.pluginOptions, { xorKey: 7, xorChunk: 4096, xorVerbose: true, xorMode: 'slow' });
  assert.deepEqual(parsed.options, { size: 1 << 20 });
  assert.deepEqual(parsed.positionals, ['bucket']);
  // /etc/fstab lines arrive as -o lists; a plugin's on/off flag negates like a built-in one.
  assert.deepEqual(parse(['-o', 'xorKey=9,xor-verbose,ro']).pluginOptions, { xorKey: 9, xorVerbose: true });
  assert.deepEqual(parse(['-o', 'xorKey=9,ro']).fuseOptions, ['ro']);
  assert.deepEqual(parse(['--no-xor-verbose', '-o', 'no-xorVerbose']).pluginOptions, { xorVerbose: false });
  assert.deepEqual(parse(['-X']).pluginOptions, { xorVerbose: true }, 'a one-letter alias of an on/off option');
  assert.deepEqual(parse(['--xorVerbose=yes']).pluginOptions, { xorVerbose: true }, 'the config key is a spelling too');
  // The C tool's flag file: one argument per line, options of plugins included.
  const fs = files({ 'disk.flags': '# xor volume\n--xorKey=200\n-oxorMode=slow\n' });
  assert.deepEqual(parse(['--configFile=disk.flags'], fs).pluginOptions, { xorKey: 200, xorMode: 'slow' });
  assert.deepEqual(parse(['-F', 'disk.flags', '--xorKey=3'], fs).pluginOptions, { xorKey: 3, xorMode: 'slow' }, 'the last one given wins');
  // Without plugin options the parse result has no pluginOptions field at all (as before).
  assert.equal(parseArgv(['--size=1m']).pluginOptions, undefined);
  assert.deepEqual(parse([]).pluginOptions, {});
});

test('plugin option values get the built-in checks: type, min/max, enum values, validate', { timeout: 5_000 }, () => {
  throwsCode(() => parse(['--xorKey=abc']), 'S3B_CONFIG_INVALID', /^--xorKey=abc: "abc" is not an integer/);
  throwsCode(() => parse(['--xorKey=0']), 'S3B_CONFIG_INVALID', /^--xorKey=0: must be at least 1/);
  throwsCode(() => parse(['-o', 'xorKey=256']), 'S3B_CONFIG_INVALID', /^-o xorKey=256: must be at most 255/);
  throwsCode(() => parse(['--xorKey']), 'S3B_CONFIG_INVALID', /needs a value \(--xorKey=VALUE\)/);
  throwsCode(() => parse(['--xorChunk=1000']), 'S3B_CONFIG_INVALID', /^--xorChunk=1000: must be a multiple of 512/);
  throwsCode(() => parse(['--xorChunk=12q']), 'S3B_CONFIG_INVALID', /"12q" is not a size/);
  throwsCode(() => parse(['--xorMode=medium']), 'S3B_CONFIG_INVALID', /"medium" is not one of fast, slow/);
  throwsCode(() => parse(['--xor-verbose=maybe']), 'S3B_CONFIG_INVALID', /expects no value or true\/false/);
  throwsCode(() => parse(['--no-xorKey']), 'S3B_CONFIG_UNKNOWN_OPTION', /unknown option "--no-xorKey"/);
  const fs = files({ 'bad.flags': '--xorKey=999\n' });
  throwsCode(() => parse(['-F', 'bad.flags'], fs), 'S3B_CONFIG_INVALID', /--xorKey=999 \(from flag file "bad.flags"\): must be at most 255/);
});

test('unknown names: suggestions include the plugins\' options; without the plugin its flag is unknown exactly as before', { timeout: 5_000 }, () => {
  throwsCode(() => parse(['--xorkey=7']), 'S3B_CONFIG_UNKNOWN_OPTION', /unknown option "--xorkey"; did you mean "--xorKey"\?/);
  throwsCode(() => parse(['-o', 'xorKye=7']), 'S3B_CONFIG_UNKNOWN_OPTION', /unknown option "xorKye" in -o xorKye=7; did you mean "xorKey"\?/);
  throwsCode(() => parse(['--blocksize=4k']), 'S3B_CONFIG_UNKNOWN_OPTION', /did you mean "--blockSize"\?/);
  // No plugin declares it: the built-in parse's own error, word for word.
  const builtIn = (() => { try { parseArgv(['--xorKey=7']); } catch (error) { return error as S3BackerError; } return undefined; })();
  assert.equal(builtIn?.code, 'S3B_CONFIG_UNKNOWN_OPTION');
  assert.equal(builtIn?.message, 'unknown option "--xorKey"; see s3backer --help for the list of options');
  throwsCode(() => parseArgv(['-o', 'xorKey=7']), 'S3B_CONFIG_UNKNOWN_OPTION', /unknown option "xorKey" in -o xorKey=7; it is neither an s3backer option nor a FUSE mount option/);
  throwsCode(() => resolveConfig({ cli: parseArgv(['b', '/m']), file: { xorKye: 7 } as UserConfig, cwd: '/w', plugins: [xorPlugin()] }),
    'S3B_CONFIG_UNKNOWN_OPTION', /unknown key "xorKye" in the config file; did you mean "xorKey"\?/);
  throwsCode(() => resolveConfig({ cli: parseArgv(['b', '/m']), file: { xorKey: 7 } as UserConfig, cwd: '/w' }),
    'S3B_CONFIG_UNKNOWN_OPTION', /unknown key "xorKey" in the config file; see docs\/config.md/);
});

test('the tolerant first pass records unknown names and bad values in order and keeps what it can', { timeout: 5_000 }, () => {
  const first = parseArgv(['--xorKey=7', '--config', 'my.json', '--size=12q', '-o', 'xorMode=slow,ro', '--erase', 'b'], { tolerant: true });
  assert.deepEqual(first.options, { config: 'my.json', readOnly: true, erase: true });
  assert.deepEqual(first.positionals, ['b']);
  assert.deepEqual(first.fuseOptions, ['ro']);
  assert.deepEqual(first.problems?.map((p) => p.code), ['S3B_CONFIG_UNKNOWN_OPTION', 'S3B_CONFIG_INVALID', 'S3B_CONFIG_UNKNOWN_OPTION']);
  assert.match(first.problems![0]!.message, /"--xorKey"/);
  assert.equal(first.problems![0]!.message, (() => { try { parseArgv(['--xorKey=7', '--size=12q']); } catch (e) { return (e as Error).message; } return ''; })(),
    'its first problem is the strict parse\'s error');
});

test('a plugin option that takes a built-in\'s or another plugin\'s name is S3B_CONFIG_INVALID naming both', { timeout: 5_000 }, () => {
  const doc = 'x';
  throwsCode(() => OptionCatalog.forPlugins([xorPlugin({ size: { type: 'size', doc } })]), 'S3B_CONFIG_INVALID',
    /plugin "xor" declares the option "size", but the name "size" is already the built-in option --size; the plugin must rename its option/);
  throwsCode(() => OptionCatalog.forPlugins([xorPlugin({ resetMountedFlag: { type: 'boolean', doc } })]), 'S3B_CONFIG_INVALID',
    /already the built-in option --reset-mounted-flag/);
  throwsCode(() => OptionCatalog.forPlugins([xorPlugin({ key: { type: 'integer', flag: 'blockSize', doc } })]), 'S3B_CONFIG_INVALID',
    /plugin "xor" declares the option "key" \(--blockSize\), but the name "blockSize" is already the built-in option --blockSize/);
  throwsCode(() => OptionCatalog.forPlugins([xorPlugin({ loud: { type: 'boolean', aliases: ['f'], doc } })]), 'S3B_CONFIG_INVALID',
    /the name "f" is already the built-in option --foreground/);
  throwsCode(() => OptionCatalog.forPlugins([xorPlugin({ bucket: { type: 'string', doc } })]), 'S3B_CONFIG_INVALID', /"bucket" is reserved \(a config-file key\)/);
  throwsCode(() => OptionCatalog.forPlugins([xorPlugin({ level: { type: 'integer', doc } }, 'zip'), xorPlugin({ level: { type: 'integer', doc } }, 'rar')]),
    'S3B_CONFIG_INVALID', /plugin "rar" declares the option "level", but the name "level" is already option --level of plugin "zip"; rename the option in one of them, or configure only one of "zip" and "rar"/);
  // Plugins without options leave the catalog the built-in one.
  assert.equal(OptionCatalog.forPlugins([{ name: 'plain', apply() {} }]), OptionCatalog.BUILT_IN);
});

test('a malformed declaration is the plugin author\'s bug: S3B_PLUGIN_ERROR naming the plugin', { timeout: 5_000 }, () => {
  const bad = (spec: unknown, key = 'opt') => () => OptionCatalog.forPlugins([xorPlugin({ [key]: spec as PluginOptionSpec })]);
  throwsCode(bad({ type: 'float', doc: 'x' }), 'S3B_PLUGIN_ERROR', /plugin "xor" declares option "opt" wrongly: type must be one of boolean, string/);
  throwsCode(bad({ type: 'integer' }), 'S3B_PLUGIN_ERROR', /doc must be a non-empty string/);
  throwsCode(bad({ type: 'enum', values: [], doc: 'x' }), 'S3B_PLUGIN_ERROR', /an enum needs values/);
  throwsCode(bad({ type: 'integer', min: 1, default: 0, doc: 'x' }), 'S3B_PLUGIN_ERROR', /its default 0 must be at least 1/);
  throwsCode(bad({ type: 'integer', doc: 'x' }, 'a,b'), 'S3B_PLUGIN_ERROR', /an option key is a letter/);
  throwsCode(bad({ type: 'integer', aliases: ['k'], doc: 'x' }), 'S3B_PLUGIN_ERROR', /one-letter alias "-k" is only possible for an on\/off/);
});

test('merge: command line over config-file key over declared default, per plugin, frozen; a bad file value only if used', { timeout: 5_000 }, () => {
  const plugins = [xorPlugin()];
  const merge = (argv: string[], file: Record<string, unknown> | null) =>
    resolveConfig({ cli: parseArgv(argv, { catalog: OptionCatalog.forPlugins(plugins) }), file: file as UserConfig, cwd: '/w', plugins });
  assert.deepEqual(merge(['b', '/m'], null).pluginOptions, { xor: { xorKey: 90, xorVerbose: false, xorMode: 'fast' } });
  assert.deepEqual(merge(['b', '/m'], { xorKey: 7, xorChunk: '1k' }).pluginOptions.xor, { xorKey: 7, xorChunk: 1024, xorVerbose: false, xorMode: 'fast' });
  assert.equal(merge(['--xorKey=8', 'b', '/m'], { xorKey: 7 }).pluginOptions.xor!.xorKey, 8);
  assert.equal(merge(['--xorKey=8', 'b', '/m'], { xorKey: 700 }).pluginOptions.xor!.xorKey, 8, 'a flag overrides a bad file value');
  throwsCode(() => merge(['b', '/m'], { xorKey: 700 }), 'S3B_CONFIG_INVALID', /^xorKey in the config file: must be at most 255; fix the value or override it with --xorKey/);
  throwsCode(() => merge(['b', '/m'], { xorMode: 3 }), 'S3B_CONFIG_INVALID', /xorMode in the config file: must be one of fast, slow/);
  const result = merge(['b', '/m'], { xorKey: 7 });
  assert.ok(Object.isFrozen(result.pluginOptions) && Object.isFrozen(result.pluginOptions.xor));
  assert.equal((result.config as Record<string, unknown>).xorKey, undefined, 'plugin options stay out of ResolvedConfig');
  // Without a catalog, resolveConfig builds it from the plugins it is given.
  assert.equal(resolveConfig({ cli: parseArgv(['b', '/m']), file: { xorKey: 5 } as UserConfig, cwd: '/w', plugins }).pluginOptions.xor!.xorKey, 5);
});

test('apply() reads its own values from engine.options (defaults filled, frozen); a plugin without options gets {}', { timeout: 5_000 }, () => {
  const xor = xorPlugin();
  const plain = xorPlugin({}, 'plain');
  Engine.create(testConfig({ store: 'memory' }), [xor, plain], { pluginOptions: { xor: { xorKey: 7 }, other: { x: 1 } } });
  assert.deepEqual(xor.seen, { xorKey: 7, xorVerbose: false, xorMode: 'fast' });
  assert.ok(Object.isFrozen(xor.seen));
  assert.deepEqual(plain.seen, {});
  // An embedding program that passes nothing still gets the declared defaults.
  const bare = xorPlugin();
  Engine.create(testConfig({ store: 'memory' }), [bare]);
  assert.deepEqual(bare.seen, { xorKey: 90, xorVerbose: false, xorMode: 'fast' });
});

test('--help lists each plugin\'s options in a section of its own, after the built-ins, and the note', { timeout: 5_000 }, () => {
  const help = helpText({ catalog: CATALOG });
  const section = help.slice(help.indexOf('\nPlugin xor:\n'));
  assert.ok(help.indexOf('\nPlugin xor:\n') > help.indexOf('\nGeneral:\n'), 'after the built-in groups');
  assert.match(section, /\n  --xorKey=N +Byte every block is XORed with\. \(default: 90\)\n/);
  assert.match(section, /\n  --xorChunk=VALUE +Bytes per XOR pass\.\n/);
  assert.match(section, /\n  -X, --xor-verbose +Log every block XORed\. \(default: false\)\n/);
  assert.match(section, /\n  --xorMode=fast\|slow +How to XOR\. \(default: fast\)\n/);
  assert.equal(helpText(), helpText({ catalog: OptionCatalog.BUILT_IN }), 'no plugins, no section');
  assert.doesNotMatch(helpText(), /\nPlugin /);
  assert.match(helpText({ note: 'Options of plugins are not listed: boom' }), /\n\nOptions of plugins are not listed: boom\n$/);
});
