import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { configDocs } from '../../src/config/config-docs.js';
import { helpText, flagUsage } from '../../src/config/help-text.js';
import { parseArgv } from '../../src/config/parse-argv.js';
import { OPTION_KEYS, optionSpec, checkOptionValue, type OptionSpec } from '../../src/config/options.js';

// Compiled to dist/test/unit/: the repository root is three levels up.
const CONFIG_MD = new URL('../../../docs/config.md', import.meta.url);

test('docs/config.md is what configDocs() generates (run `npm run docs` after changing options.ts)', () => {
  const onDisk = readFileSync(CONFIG_MD, 'utf8');
  assert.ok(onDisk === configDocs(), 'docs/config.md is stale: run `npm run docs` and commit the result');
});

test('every option appears in --help and in docs/config.md', () => {
  const help = helpText();
  const docs = configDocs();
  for (const key of OPTION_KEYS) {
    const spec = optionSpec(key);
    assert.ok(help.includes(`--${spec.flag}`), `--${spec.flag} missing from --help`);
    assert.ok(help.includes(spec.doc), `the doc of --${spec.flag} missing from --help`);
    for (const alias of spec.aliases ?? []) assert.ok(help.includes(`-${alias}`), `-${alias} missing from --help`);
    // The docs table row: flag, config key (unless command-line only), doc.
    const row = docs.split('\n').find((line) => line.startsWith(`| \`${flagUsage(spec).replace(/\|/g, '\\|')}\` |`));
    assert.ok(row !== undefined, `no docs/config.md row for --${spec.flag}`);
    assert.ok(row.includes(spec.cliOnly ? '(command line only)' : `| \`${key}\` |`), `config key of --${spec.flag} in docs`);
    assert.ok(row.includes(spec.doc.replace(/\|/g, '\\|')), `doc of --${spec.flag} in docs`);
  }
  for (const usage of ['s3backer [options] bucket[/subdir] mountpoint', 's3backer --erase [options] bucket[/subdir]',
    's3backer --reset-mounted-flag [options] bucket[/subdir]']) {
    assert.ok(help.includes(usage), usage);
  }
  assert.match(help, /-o /);
  assert.match(help, /--config=FILE/);
});

/** A valid text value for a flag of this type (the first sample its validate() accepts). */
function sample(spec: OptionSpec): { text: string | undefined; value: unknown } {
  switch (spec.type) {
    case 'boolean': return { text: undefined, value: true };
    case 'size': return { text: '64k', value: 65536 };
    case 'octal': return { text: '0644', value: 0o644 };
    case 'integer': return { text: String(spec.min ?? 0), value: spec.min ?? 0 };
    case 'enum': return { text: spec.values.at(-1)!, value: spec.values.at(-1) };
    case 'string': {
      const text = ['value', 'http://127.0.0.1:4568/', 'zstd', 'lowdelay'].find((candidate) => checkOptionValue(spec, candidate) === undefined)!;
      return { text, value: text };
    }
  }
}

test('every flag parses, as --flag, in an -o list and through its aliases', () => {
  const readFile = () => '--quiet';
  for (const key of OPTION_KEYS) {
    const spec = optionSpec(key);
    if (key === 'configFile') {
      // The flag file is expanded in place, not recorded.
      for (const argv of [['--configFile=f'], ['-o', 'configFile=f'], ['-F', 'f']]) {
        assert.deepEqual(parseArgv(argv, { readFile }).options, { quiet: true }, argv.join(' '));
      }
      continue;
    }
    const { text, value } = sample(spec);
    const long = text === undefined ? `--${spec.flag}` : `--${spec.flag}=${text}`;
    assert.equal(parseArgv([long]).options[key], value, long);
    const item = text === undefined ? spec.flag : `${spec.flag}=${text}`;
    assert.equal(parseArgv(['-o', item]).options[key], value, `-o ${item}`);
    for (const alias of spec.aliases ?? []) {
      assert.equal(parseArgv(text === undefined ? [`-${alias}`] : [`-${alias}`, text]).options[key], value, `-${alias}`);
    }
    if (spec.type === 'boolean') assert.equal(parseArgv([`--no-${spec.flag}`]).options[key], false, `--no-${spec.flag}`);
    // --compress and --encrypt also stand alone, as in the C tool.
    if (spec.type === 'string' && spec.bareValue !== undefined) assert.equal(parseArgv([`--${spec.flag}`]).options[key], spec.bareValue, `--${spec.flag}`);
  }
});
