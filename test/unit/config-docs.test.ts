import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { configDocs } from '../../src/config/config-docs.js';
import { helpText, flagUsage } from '../../src/config/help-text.js';
import { sample } from '../helpers/option-sample.js';
import { parseArgv } from '../../src/config/parse-argv.js';
import { OPTION_KEYS, optionSpec } from '../../src/config/options.js';

// Compiled to dist/test/unit/: the repository root is three levels up.
const CONFIG_MD = new URL('../../../docs/config.md', import.meta.url);

test('docs/config.md is what configDocs() generates (run `npm run docs` after changing options.ts)', { timeout: 5_000 }, () => {
  const onDisk = readFileSync(CONFIG_MD, 'utf8');
  assert.ok(onDisk === configDocs(), 'docs/config.md is stale: run `npm run docs` and commit the result');
});

test('every option appears in --help and in docs/config.md', { timeout: 5_000 }, () => {
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

test('every flag parses, as --flag, in an -o list and through its aliases', { timeout: 5_000 }, () => {
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

test('docs/config.md states the precedence once: command line (bucket/subdir included) over config file over defaults; environment', { timeout: 5_000 }, () => {
  const docs = configDocs();
  assert.equal(docs.match(/^## Precedence$/gm)?.length, 1);
  const section = docs.slice(docs.indexOf('## Precedence'), docs.indexOf('## Command line'));
  assert.match(section, /1\. the \*\*command line\*\*: flags, `-o` items, the lines of `--configFile` flag files, and the arguments/);
  assert.match(section, /`bucket\/subdir` argument counts as `--prefix=subdir\/`, so it overrides a `prefix` in the config file/);
  assert.match(section, /2\. the \*\*config file\*\*[\s\S]*3\. the \*\*built-in default\*\*/);
  assert.match(section, /a bad value in it is an error only\s+if it is used/);
  assert.match(section, /No option in the tables below is read from the environment/);
  assert.match(docs, /When the file sets `bucket`, a single argument is the\s+mount point/);
});

test('--help says that unknown -o items are errors, how --config takes its file, and the precedence', { timeout: 5_000 }, () => {
  const help = helpText();
  assert.match(help, /any other -o item is an error \(the C tool passes unknown\s+items to FUSE/);
  assert.match(help, /--config FILE \(or --config=FILE\) loads a typed config file/);
  assert.match(help, /  --config FILE +Typed config file/);
  assert.match(help, /  -F FILE, --configFile FILE +The C tool's flag file/);
  assert.match(help, /Precedence: the command line \(flags, -o items, flag files, and bucket\/subdir, which sets the\s+prefix\) over the config file over the defaults/);
});
