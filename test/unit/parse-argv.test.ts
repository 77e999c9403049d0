import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgv, type ParseArgvOptions } from '../../src/config/parse-argv.js';
import { FUSE_PASSTHROUGH_OPTIONS, isFusePassthroughOption } from '../../src/config/fuse-passthrough-options.js';
import { S3BackerError } from '../../src/errors/s3backer-error.js';
import type { ErrorCode } from '../../src/errors/codes.js';

/** Flag files from a map instead of the disk; a missing name fails like fs does. */
function files(map: Record<string, string>): ParseArgvOptions {
  return {
    readFile: (path) => {
      if (!(path in map)) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT' });
      return map[path]!;
    },
  };
}

function fails(argv: string[], code: ErrorCode, message: RegExp, options?: ParseArgvOptions): void {
  assert.throws(() => parseArgv(argv, options), (error: unknown) => {
    assert.ok(error instanceof S3BackerError, `expected an S3BackerError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.match(error.message, message);
    return true;
  });
}

test('value flags: --name=value, parsed by type', { timeout: 5_000 }, () => {
  const parsed = parseArgv(['--size=1g', '--blockSize=64k', '--timeout=10', '--fileMode=0644', '--store=memory',
    '--accessId=', '--region=eu-west-1', '--blockSize=3000']);
  assert.deepEqual(parsed.options, {
    size: 2 ** 30, blockSize: 3000, timeout: 10, fileMode: 0o644, store: 'memory', accessId: '', region: 'eu-west-1',
  });
  assert.deepEqual(parsed.positionals, []);
  assert.deepEqual(parsed.fuseOptions, []);
});

test('on/off flags: --name, --name=true|false, --no-name', { timeout: 5_000 }, () => {
  assert.deepEqual(parseArgv(['--readOnly', '--force=false', '--directIO=true', '--no-vhost', '--no-quiet']).options,
    { readOnly: true, force: false, directIO: true, vhost: false, quiet: false });
  // --noAutoDetect is a flag of its own (C), not --no-AutoDetect.
  assert.deepEqual(parseArgv(['--noAutoDetect']).options, { noAutoDetect: true });
  fails(['--readOnly=maybe'], 'S3B_CONFIG_INVALID', /^--readOnly=maybe: expects no value or true\/false/);
  fails(['--no-size'], 'S3B_CONFIG_UNKNOWN_OPTION', /unknown option "--no-size"/);
  fails(['--no-vhost=true'], 'S3B_CONFIG_INVALID', /--no-vhost=true.*write --vhost=true instead/);
});

test('a value needs "=" as in fuse_opt: "--size 1g" is an error and "1g" is not swallowed', { timeout: 5_000 }, () => {
  fails(['--size', '1g', 'bucket', '/mnt'], 'S3B_CONFIG_INVALID', /^--size: needs a value \(--size=VALUE\)/);
});

test('the flags that name a file also take it as the next argument: --config FILE, --configFile FILE', { timeout: 5_000 }, () => {
  assert.deepEqual(parseArgv(['--config', 'my.config.ts', 'bucket', '/mnt']),
    { options: { config: 'my.config.ts' }, positionals: ['bucket', '/mnt'], fuseOptions: [] });
  assert.deepEqual(parseArgv(['--config=my.config.ts']).options, { config: 'my.config.ts' });
  assert.deepEqual(parseArgv(['--config', '-']).options, { config: '-' });
  const fs = files({ 'a.flags': '--size=1g' });
  assert.deepEqual(parseArgv(['--configFile', 'a.flags', 'bucket'], fs), { options: { size: 2 ** 30 }, positionals: ['bucket'], fuseOptions: [] });
  fails(['--config'], 'S3B_CONFIG_INVALID', /^--config: needs a file name; write --config FILE or --config=FILE/);
  fails(['--config', '--size=1g', 'b', '/m'], 'S3B_CONFIG_INVALID', /^--config: needs a file name, not the flag "--size=1g"/);
  fails(['--configFile'], 'S3B_CONFIG_INVALID', /^--configFile: needs a file name; write --configFile FILE/, fs);
  // Every other value flag still needs "=" (fuse_opt's templates), as tested above.
  fails(['--prefix', 'p/', 'b', '/m'], 'S3B_CONFIG_INVALID', /^--prefix: needs a value \(--prefix=VALUE\)/);
});

test('a flag given twice: the last one wins', { timeout: 5_000 }, () => {
  assert.deepEqual(parseArgv(['--size=1g', '--readOnly', '--size=2g', '--readOnly=false']).options,
    { size: 2 * 2 ** 30, readOnly: false });
});

test('positionals, and -- ends the flags', { timeout: 5_000 }, () => {
  const parsed = parseArgv(['--debug', 'bucket/dir', '--', '--size=1g', '-f']);
  assert.deepEqual(parsed.positionals, ['bucket/dir', '--size=1g', '-f']);
  assert.deepEqual(parsed.options, { debug: true });
  assert.deepEqual(parseArgv(['-']).positionals, ['-']);
});

test('short aliases: -f, -d (which also means foreground, as in FUSE), -h, -v', { timeout: 5_000 }, () => {
  assert.deepEqual(parseArgv(['-f']).options, { foreground: true });
  assert.deepEqual(parseArgv(['-d']).options, { debug: true, foreground: true });
  assert.deepEqual(parseArgv(['-d', '--foreground=false']).options, { debug: true, foreground: false });
  assert.deepEqual(parseArgv(['-h']).options, { help: true });
  assert.deepEqual(parseArgv(['-v']).options, { version: true });
  fails(['-x'], 'S3B_CONFIG_UNKNOWN_OPTION', /^unknown option "-x"; see s3backer --help/);
  fails(['-fd'], 'S3B_CONFIG_UNKNOWN_OPTION', /unknown option "-fd"/);
});

test('unknown flags name the closest flag', { timeout: 5_000 }, () => {
  fails(['--blocksize=1m'], 'S3B_CONFIG_UNKNOWN_OPTION', /^unknown option "--blocksize"; did you mean "--blockSize"\?$/);
  fails(['--readonly'], 'S3B_CONFIG_UNKNOWN_OPTION', /did you mean "--readOnly"\?/);
  fails(['--reset-mounted-flags'], 'S3B_CONFIG_UNKNOWN_OPTION', /did you mean "--reset-mounted-flag"\?/);
  fails(['--frobnicate'], 'S3B_CONFIG_UNKNOWN_OPTION', /^unknown option "--frobnicate"; see s3backer --help/);
});

test('swapped letters get a suggestion too, as a flag and as an -o item', { timeout: 5_000 }, () => {
  fails(['--vhots'], 'S3B_CONFIG_UNKNOWN_OPTION', /^unknown option "--vhots"; did you mean "--vhost"\?$/);
  fails(['--raedOnly'], 'S3B_CONFIG_UNKNOWN_OPTION', /did you mean "--readOnly"\?/);
  fails(['-o', 'vhots'], 'S3B_CONFIG_UNKNOWN_OPTION', /^unknown option "vhots" in -o vhots; did you mean "vhost"\?$/);
  fails(['-o', 'ro,blokcSize=1m'], 'S3B_CONFIG_UNKNOWN_OPTION', /did you mean "blockSize"\?/);
});

test('bad values name the flag and the reason', { timeout: 5_000 }, () => {
  fails(['--size=abc'], 'S3B_CONFIG_INVALID', /^--size=abc: "abc" is not a size/);
  fails(['--timeout=ten'], 'S3B_CONFIG_INVALID', /^--timeout=ten: "ten" is not an integer/);
  fails(['--timeout=0'], 'S3B_CONFIG_INVALID', /^--timeout=0: must be at least 1/);
  fails(['--fileMode=0999'], 'S3B_CONFIG_INVALID', /^--fileMode=0999: .*octal/);
  fails(['--fileMode=77777'], 'S3B_CONFIG_INVALID', /at most 07777/);
  fails(['--store=a/b'], 'S3B_CONFIG_INVALID', /^--store=a\/b: must be a store name such as s3, dir or memory/);
  // Any other name is a store a plugin may register: the engine checks it against the registry.
  assert.equal(parseArgv(['--store=tape']).options.store, 'tape');
  // The table's validate() runs too.
  fails(['--filename=a/b'], 'S3B_CONFIG_INVALID', /^--filename=a\/b: .*may not contain "\/"/);
  fails(['--baseURL=ftp://host/'], 'S3B_CONFIG_INVALID', /^--baseURL=ftp:\/\/host\/: must start with http:\/\/ or https:\/\//);
});

test('-o lists: options by flag name or key, both spellings of -o', { timeout: 5_000 }, () => {
  const parsed = parseArgv(['-o', 'size=1g,readOnly,reset-mounted-flag', '-oblockHashPrefix,resetMountedFlag=false,debug=false,no-vhost']);
  assert.deepEqual(parsed.options, { size: 2 ** 30, readOnly: true, resetMountedFlag: false, blockHashPrefix: true, debug: false, vhost: false });
  assert.deepEqual(parsed.fuseOptions, []);
  // Same value parsing and errors as flags, naming the -o item.
  fails(['-o', 'size=abc'], 'S3B_CONFIG_INVALID', /^-o size=abc: "abc" is not a size/);
  fails(['-o', 'ro,blocksize=1m'], 'S3B_CONFIG_UNKNOWN_OPTION', /^unknown option "blocksize" in -o ro,blocksize=1m; did you mean "blockSize"\?$/);
  fails(['-o'], 'S3B_CONFIG_INVALID', /^-o: needs an argument/);
});

test('-o: FUSE and mount options pass through, ro also sets readOnly, the rest is unknown', { timeout: 5_000 }, () => {
  const parsed = parseArgv(['-o', 'allow_other,uid=1000,gid=100,ro,noauto,x-systemd.automount,x-systemd.requires=network.target',
    '-ofsname=my\\,disk,comment=x', 'bucket', 'mnt']);
  assert.deepEqual(parsed.fuseOptions, ['allow_other', 'uid=1000', 'gid=100', 'ro', 'noauto', 'x-systemd.automount',
    'x-systemd.requires=network.target', 'fsname=my,disk', 'comment=x']);
  assert.deepEqual(parsed.options, { readOnly: true });
  assert.deepEqual(parsed.positionals, ['bucket', 'mnt']);
  assert.deepEqual(parseArgv(['-o', 'rw']).options, {});
  fails(['-o', 'uid'], 'S3B_CONFIG_UNKNOWN_OPTION', /unknown option "uid"/);
  fails(['-o', 'allow_other=1'], 'S3B_CONFIG_UNKNOWN_OPTION', /unknown option "allow_other"/);
  fails(['-o', 'sync_read'], 'S3B_CONFIG_UNKNOWN_OPTION', /neither an s3backer option nor a FUSE mount option/);
});

test('the FUSE allow-list matches names, NAME= values and x-systemd.* prefixes', { timeout: 5_000 }, () => {
  for (const entry of FUSE_PASSTHROUGH_OPTIONS) {
    const example = entry.endsWith('*') ? entry.slice(0, -1) + 'mount-timeout=30' : entry.endsWith('=') ? entry + '1' : entry;
    assert.ok(isFusePassthroughOption(example), example);
  }
  assert.equal(isFusePassthroughOption('umask='), false, 'a NAME= entry needs a value');
  assert.equal(isFusePassthroughOption('allow_others'), false);
});

test('--configFile / -F: replaced in place by the file\'s lines (as in the C tool\'s s3b_config.c)', { timeout: 5_000 }, () => {
  const fs = files({
    'a.conf': '# comment\n\n   --size=1g   \n--accessKeyEnv=MY SECRET VAR\r\n  # indented comment\nbucket/dir\n/mnt/disk\n',
  });
  const expected = {
    options: { size: 2 ** 30, accessKeyEnv: 'MY SECRET VAR' },
    positionals: ['bucket/dir', '/mnt/disk'],
    fuseOptions: [],
  };
  assert.deepEqual(parseArgv(['--configFile=a.conf'], fs), expected);
  assert.deepEqual(parseArgv(['-F', 'a.conf'], fs), expected);
  assert.deepEqual(parseArgv(['-Fa.conf'], fs), expected);
  assert.deepEqual(parseArgv(['-o', 'configFile=a.conf'], fs), expected);
  // In place: what comes after the flag overrides the file, what comes before is overridden by it.
  assert.deepEqual(parseArgv(['--size=2g', '-F', 'a.conf', '--blockSize=1m'], fs).options,
    { size: 2 ** 30, accessKeyEnv: 'MY SECRET VAR', blockSize: 2 ** 20 });
  assert.equal(parseArgv(['-F', 'a.conf', '--size=2g'], fs).options.size, 2 * 2 ** 30);
  // Inside a -o list the rest of the list comes after the file's lines.
  assert.equal(parseArgv(['-o', 'size=4g,configFile=a.conf,size=8g'], fs).options.size, 8 * 2 ** 30);
  assert.equal(parseArgv(['-o', 'size=4g,configFile=a.conf'], fs).options.size, 2 ** 30);
});

test('flag files nest; more than 100 expansions is an error', { timeout: 5_000 }, () => {
  const fs = files({ outer: '-F\ninner\n--readOnly', inner: '--size=1g', self: '--configFile=self' });
  assert.deepEqual(parseArgv(['-F', 'outer'], fs).options, { size: 2 ** 30, readOnly: true });
  fails(['-F', 'self'], 'S3B_CONFIG_FILE', /configFile nesting too deep/, fs);
  // Exactly 100 expansions are fine (a chain f1 -> f2 -> ... -> f100).
  const chain: Record<string, string> = {};
  for (let i = 1; i <= 101; i++) chain[`f${i}`] = i < 101 ? `--configFile=f${i + 1}` : '--quiet';
  assert.deepEqual(parseArgv(['-F', 'f2'], files(chain)).options, { quiet: true });
  fails(['-F', 'f1'], 'S3B_CONFIG_FILE', /nesting too deep/, files(chain));
});

test('flag file errors: missing file, long line, bad line naming the file', { timeout: 5_000 }, () => {
  fails(['--configFile=nope.conf'], 'S3B_CONFIG_FILE', /cannot read flag file "nope\.conf".*ENOENT/, files({}));
  fails(['--configFile='], 'S3B_CONFIG_INVALID', /needs a file name/, files({}));
  fails(['-F'], 'S3B_CONFIG_INVALID', /-F: needs an argument/, files({}));
  const ok = '--accessKeyEnv=' + 'x'.repeat(1023 - '--accessKeyEnv='.length);
  assert.equal(parseArgv(['-F', 'ok'], files({ ok })).options.accessKeyEnv?.toString().length, 1023 - '--accessKeyEnv='.length);
  fails(['-F', 'long'], 'S3B_CONFIG_FILE', /"long" line 2 is too long \(1024 characters/, files({ long: '--quiet\n' + ok + 'x' }));
  fails(['-F', 'bad'], 'S3B_CONFIG_INVALID', /^--size=abc \(from flag file "bad"\): "abc" is not a size/, files({ bad: '--size=abc' }));
  fails(['-F', 'bad'], 'S3B_CONFIG_UNKNOWN_OPTION', /"--sise" \(from flag file "bad"\); did you mean "--size"/, files({ bad: '--sise=1' }));
});

test('the real file system is the default reader', { timeout: 5_000 }, () => {
  fails(['-F', '/nonexistent/s3backer-flags'], 'S3B_CONFIG_FILE', /ENOENT/);
});
