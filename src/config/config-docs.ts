import { OPTION_KEYS, optionSpec, defaultText, type OptionGroup, type OptionSpec } from './options.js';
import { CONFIG_SEARCH_PLACES } from './load-config-file.js';
import { FUSE_PASSTHROUGH_OPTIONS } from './fuse-passthrough-options.js';
import { GROUP_TITLES, flagUsage } from './help-text.js';

/**
 * The whole of docs/config.md, generated from OPTION_TABLE (scripts/generate-docs.ts writes it; a test
 * fails when the file on disk differs), so the reference cannot drift from the parser.
 */
export function configDocs(): string {
  const out: string[] = [
    '# Configuration',
    '',
    '<!-- Generated from src/config/options.ts by scripts/generate-docs.ts (npm run docs). Do not edit by hand. -->',
    '',
    '## Precedence',
    '',
    's3backer takes its options from three places. For each option the first one that sets it wins:',
    '',
    '1. the **command line**: flags, `-o` items, the lines of `--configFile` flag files, and the arguments. A',
    '   `bucket/subdir` argument counts as `--prefix=subdir/`, so it overrides a `prefix` in the config file;',
    '   within the command line, the last occurrence of a flag wins;',
    '2. the **config file** (`s3backer.config.ts` and friends, see below);',
    '3. the **built-in default** (the table below).',
    '',
    'A value of `null` or `undefined` in the config file counts as not set, and a bad value in it is an error only',
    'if it is used: a flag that overrides it is enough. A misspelt key is always an error. The cross-flag checks',
    '(such as `--blockCacheSync` needing `--blockCacheWriteDelay=0`) apply to the result, wherever each value came from.',
    '',
    'No option in the tables below is read from the environment. It matters only for credentials: `--accessKeyEnv=VAR` names a variable,',
    'the default access file is `$HOME/.s3backer_passwd`, and with no `--access*` option and no access file the',
    'AWS SDK\'s default chain is used (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, `AWS_PROFILE`, an instance role).',
    '',
    '## Command line',
    '',
    '```',
    's3backer [options] bucket[/subdir] mountpoint',
    's3backer --erase [options] bucket[/subdir]',
    's3backer --reset-mounted-flag [options] bucket[/subdir]',
    's3backer --test [options] directory mountpoint',
    '```',
    '',
    'The flags are those of the C s3backer, spelled the same way. As with the C tool (fuse_opt), a flag takes its',
    'value after `=`: `--size=100g`, not `--size 100g`. Only the flags that name a file also take it as the next',
    'argument: `--config FILE` and `--configFile FILE` (besides `--config=FILE` and `--configFile=FILE`), and the',
    'C tool\'s short forms `-F FILE` and `-o LIST`. An on/off flag is `--name`, `--name=true|false`, or',
    '`--no-name` to turn it off (`--no-vhost`). If a flag is given twice, the last one wins. As with FUSE, `-d` also',
    'turns on `--foreground`.',
    '',
    '`bucket/subdir` stores the volume under the prefix `subdir/`; it cannot be combined with a non-empty `--prefix`',
    'on the command line. With `--test` the first argument is a local directory (see `--store=dir`).',
    '',
    '### `-o` lists',
    '',
    'Every flag can also be written inside a comma-separated `-o` list, without the dashes, as in `/etc/fstab`:',
    '`-o size=100g,readOnly,accessFile=/etc/s3backer/passwd` (or `-osize=100g,...`). A literal comma is written `\\,`.',
    'Items that are not s3backer options must be standard FUSE or mount options; they are passed on to FUSE:',
    '',
    FUSE_PASSTHROUGH_OPTIONS.map((name) => '`' + (name.endsWith('=') ? name + '…' : name) + '`').join(', ') + '.',
    '',
    '`ro` also turns on `--readOnly`. Anything else is an error that names the closest valid option (the C tool',
    'passes unknown items on to FUSE, so there a misspelt option is silently ignored).',
    '',
    '### `--configFile` flag files',
    '',
    '`--configFile=FILE` (or `-F FILE`, or `configFile=FILE` inside a `-o` list) is the C tool\'s flag file: it is',
    'replaced, in place, by the lines of `FILE`. Each line is one more command-line argument (a flag, or the bucket',
    'and mount point); lines are trimmed, blank lines and lines starting with `#` are skipped, and a line may not be',
    'longer than 1023 characters. Flag files may name other flag files, up to 100 expansions in all.',
    '',
    '```',
    '# /etc/s3backer/disk1.flags',
    '--region=eu-west-1',
    '--accessFile=/etc/s3backer/passwd',
    '--blockSize=1m',
    '```',
    '',
    '## Config file',
    '',
    '`--config FILE` (or `--config=FILE`) loads a typed config file. Without it, s3backer looks in the current directory (and only',
    `there, never in a parent directory or in package.json) for the first of ${CONFIG_SEARCH_PLACES.map((p) => '`' + p + '`').join(', ')}.`,
    'TypeScript files need no compiler at run time, and the file may live anywhere (for example in a read-only',
    '`/etc/s3backer/`): `import ... from \'s3backer\'` and `\'s3backer/plugins\'` always resolve to the running s3backer.',
    '`.s3backerrc` and `.s3backerrc.json` are JSON.',
    '',
    '```ts',
    'import { defineConfig } from \'s3backer\';',
    '',
    'export default defineConfig(({ command }) => ({',
    '  bucket: \'my-bucket/disk1\',',
    '  mountPoint: \'/mnt/disk1\',',
    '  size: \'100g\',',
    '  blockSize: \'1m\',',
    '  readOnly: command !== \'mount\',',
    '  plugins: [],',
    '}));',
    '```',
    '',
    'The file exports an object, a promise of one, or a function of `{ command }` (`mount`, `erase` or',
    '`reset-mounted-flag`). Keys are the "config key" column below; sizes may be numbers or strings such as `\'64k\'`,',
    'and octal modes strings such as `\'0644\'` (JSON has no octal numbers; a number is taken as it is: `0o644`, or 420).',
    'Besides the options it may set `bucket` and `mountPoint`, and `plugins`: plugin',
    'objects in order, where `false`, `null` and `[plugin, false]` entries are skipped; a JSON file names installed',
    'packages instead (`"plugins": ["s3backer-plugin-xor", ["other-plugin", { "level": 3 }]]`, docs/plugins.md). Options',
    'that those plugins declare are keys (and flags) too, listed by `s3backer --help`. Unknown keys are errors that',
    'name the closest valid key; command-line-only flags cannot be set in the file.',
    '',
    'The command-line arguments win over `bucket` and `mountPoint`. When the file sets `bucket`, a single argument is the',
    'mount point (`s3backer /mnt/disk1`); give both arguments to use another bucket. A bucket argument replaces the',
    'file\'s `bucket` as a whole, subdirectory included. In the file, `bucket: \'b/subdir\'` is the file\'s prefix: `--prefix`',
    'overrides it, and the file may not also set a non-empty `prefix`.',
  ];
  for (const group of Object.keys(GROUP_TITLES) as OptionGroup[]) {
    out.push('', `## ${GROUP_TITLES[group]}`, '', '| Flag | Config key | Type | Default | Meaning |', '|---|---|---|---|---|');
    for (const key of OPTION_KEYS) {
      const spec = optionSpec(key);
      if (spec.group !== group) continue;
      const dflt = defaultText(spec);
      out.push('| ' + [
        code(flagUsage(spec)),
        spec.cliOnly ? '(command line only)' : code(key),
        typeText(spec),
        dflt === undefined ? '–' : dflt,
        spec.doc,
      ].map(cell).join(' | ') + ' |');
    }
  }
  return out.join('\n') + '\n';
}

function typeText(spec: OptionSpec): string {
  switch (spec.type) {
    case 'boolean': return 'on/off';
    case 'size': return 'size';
    case 'octal': return 'octal';
    case 'string': return 'string';
    case 'integer': {
      const range = [spec.min === undefined ? '' : `≥ ${spec.min}`, spec.max === undefined ? '' : `≤ ${spec.max}`].filter(Boolean).join(', ');
      return range === '' ? 'integer' : `integer (${range})`;
    }
    case 'enum': return 'one of ' + spec.values.map(code).join(', ');
  }
}

function code(text: string): string {
  return '`' + text + '`';
}

/** A table cell: `|` would end the cell, even inside backticks. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}
