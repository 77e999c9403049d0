import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgv } from '../../src/config/parse-argv.js';
import { resolveConfig, detectCommand, type ResolveConfigInput } from '../../src/config/merge-config.js';
import type { UserConfig } from '../../src/config/define-config.js';
import type { S3BackerPlugin } from '../../src/engine/plugin.js';
import { S3BackerError } from '../../src/errors/s3backer-error.js';
import type { ErrorCode } from '../../src/errors/codes.js';

const CWD = '/work/dir';

function resolve(argv: string[], file: UserConfig | null = null, filePath?: string) {
  return resolveConfig({ cli: parseArgv(argv), file, cwd: CWD, ...(filePath === undefined ? {} : { filePath }) });
}

function fails(argv: string[], file: UserConfig | null, code: ErrorCode, message: RegExp, filePath?: string): void {
  assert.throws(() => resolve(argv, file, filePath), (error: unknown) => {
    assert.ok(error instanceof S3BackerError, `expected an S3BackerError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.match(error.message, message);
    return true;
  });
}

const plugin = (name: string): S3BackerPlugin => ({ name, apply() {} });

test('defaults fill every option that has one; options without one stay absent', { timeout: 5_000 }, () => {
  const { config, command, fuseOptions } = resolve(['bucket', '/mnt']);
  assert.equal(command, 'mount');
  assert.deepEqual(fuseOptions, []);
  assert.equal(config.bucket, 'bucket');
  assert.equal(config.mountPoint, '/mnt');
  assert.equal(config.prefix, '');
  assert.equal(config.region, 'us-east-1');
  assert.equal(config.timeout, 30);
  assert.equal(config.store, 's3');
  assert.equal(config.readOnly, false);
  assert.equal(config.fileMode, 0o600);
  assert.deepEqual(resolve(['bucket', '/mnt']).plugins, []);
  assert.ok(!('plugins' in config), 'the plugin list is not part of the config plugins see');
  for (const absent of ['size', 'blockSize', 'vhost', 'baseURL', 'accessId', 'help', 'version'] as const) {
    assert.equal(Object.hasOwn(config, absent), false, absent);
  }
});

test('per key: command line, then config file, then default; null and undefined never override', { timeout: 5_000 }, () => {
  const file: UserConfig = { region: 'eu-west-1', timeout: 5, readOnly: true, force: undefined, quiet: null as unknown as boolean, size: '64k' };
  const { config } = resolve(['--timeout=7', '--readOnly=false', 'bucket', '/mnt'], file);
  assert.equal(config.region, 'eu-west-1', 'from the file');
  assert.equal(config.timeout, 7, 'the command line wins');
  assert.equal(config.readOnly, false, 'a false flag still overrides the file');
  assert.equal(config.force, false, 'undefined in the file: the default');
  assert.equal(config.quiet, false, 'null in the file: the default');
  assert.equal(config.size, 65536, 'size strings are parsed');
  assert.equal(resolve(['--size=1m', 'bucket', '/mnt'], file).config.size, 2 ** 20);
});

test('config file keys are validated: unknown keys, command-line-only keys, bad values', { timeout: 5_000 }, () => {
  fails(['b', '/m'], { blocksize: '1m' } as UserConfig, 'S3B_CONFIG_UNKNOWN_OPTION',
    /unknown key "blocksize" in config file "\/etc\/s3backer\.config\.ts"; did you mean "blockSize"\?/, '/etc/s3backer.config.ts');
  fails(['b', '/m'], { mountpoint: '/x' } as UserConfig, 'S3B_CONFIG_UNKNOWN_OPTION', /did you mean "mountPoint"/);
  fails(['b', '/m'], { frobnicate: 1 } as UserConfig, 'S3B_CONFIG_UNKNOWN_OPTION', /unknown key "frobnicate" in the config file; see docs\/config\.md/);
  fails(['b', '/m'], { erase: true } as UserConfig, 'S3B_CONFIG_UNKNOWN_OPTION', /"erase" cannot be set in .*pass --erase on the command line/);
  fails(['b', '/m'], { resetMountedFlag: true } as UserConfig, 'S3B_CONFIG_UNKNOWN_OPTION', /pass --reset-mounted-flag/);
  fails(['b', '/m'], { size: 'huge' }, 'S3B_CONFIG_INVALID', /size in the config file: "huge" is not a size/);
  fails(['b', '/m'], { size: -1 }, 'S3B_CONFIG_INVALID', /size in the config file: must be a size in bytes/);
  fails(['b', '/m'], { timeout: '30' as unknown as number }, 'S3B_CONFIG_INVALID', /timeout in the config file: must be an integer/);
  fails(['b', '/m'], { timeout: 0 }, 'S3B_CONFIG_INVALID', /timeout .*must be at least 1/);
  fails(['b', '/m'], { store: 'ta pe' }, 'S3B_CONFIG_INVALID', /store .*must be a store name such as s3, dir or memory/);
  fails(['b', '/m'], { filename: 'a/b' }, 'S3B_CONFIG_INVALID', /filename .*may not contain "\/"/);
  fails(['b', '/m'], { readOnly: 'yes' as unknown as boolean }, 'S3B_CONFIG_INVALID', /readOnly .*must be true or false/);
  fails(['/m'], { bucket: 7 as unknown as string }, 'S3B_CONFIG_INVALID', /bucket .*must be a string/);
  fails(['b'], { mountPoint: 7 as unknown as string }, 'S3B_CONFIG_INVALID', /mountPoint .*must be a string; fix the value or give it on the command line/);
});

test('a bad value in the config file is reported only if it is used: a flag may override it', { timeout: 5_000 }, () => {
  const bad: UserConfig = { timeout: 0, fileMode: '0999', size: 'huge', store: 'ta pe', bucket: 7 as unknown as string, prefix: 7 as unknown as string };
  const { config } = resolve(['--timeout=5', '--fileMode=0644', '--size=1g', '--store=memory', 'b/sub', '/m'], bad);
  assert.deepEqual([config.timeout, config.fileMode, config.size, config.store, config.bucket, config.prefix],
    [5, 0o644, 2 ** 30, 'memory', 'b', 'sub/']);
  // Used, it is an error naming the key, the file and both ways out.
  fails(['b', '/m'], { timeout: 0 }, 'S3B_CONFIG_INVALID',
    /^timeout in config file "\/etc\/s3backer\.config\.ts": must be at least 1; fix the value or override it with --timeout$/, '/etc/s3backer.config.ts');
  fails(['--timeout=5', 'b', '/m'], { fileMode: '0999' }, 'S3B_CONFIG_INVALID', /fileMode in the config file: "0999" is not an octal number/);
  fails(['b', '/m'], { prefix: 7 as unknown as string }, 'S3B_CONFIG_INVALID', /prefix in the config file: must be a string/);
  assert.equal(resolve(['--prefix=p/', 'b', '/m'], { prefix: 7 as unknown as string }).config.prefix, 'p/');
  // A misspelt key is not a value: no flag "overrides" it.
  fails(['--region=x', 'b', '/m'], { regoin: 'x' } as UserConfig, 'S3B_CONFIG_UNKNOWN_OPTION', /did you mean "region"/);
});

test('octal options in the config file: a string is octal (JSON has no octal numbers), a number is the number', { timeout: 5_000 }, () => {
  assert.equal(resolve(['b', '/m'], { fileMode: '0644' }).config.fileMode, 0o644);
  assert.equal(resolve(['b', '/m'], { fileMode: '644' }).config.fileMode, 0o644);
  assert.equal(resolve(['b', '/m'], { fileMode: 0o640 }).config.fileMode, 0o640);
  assert.equal(resolve(['b', '/m'], { fileMode: 420 }).config.fileMode, 0o644, '420 is 0644');
  fails(['b', '/m'], { fileMode: 'rw-r--r--' }, 'S3B_CONFIG_INVALID', /fileMode in the config file: "rw-r--r--" is not an octal number such as 0644/);
  fails(['b', '/m'], { fileMode: '017777' }, 'S3B_CONFIG_INVALID', /fileMode in the config file: must be at most 07777/);
});

test('a misspelt config key gets a suggestion, swapped letters included', { timeout: 5_000 }, () => {
  fails(['b', '/m'], { vhots: true } as UserConfig, 'S3B_CONFIG_UNKNOWN_OPTION', /^unknown key "vhots" in the config file; did you mean "vhost"\?$/);
  fails(['b', '/m'], { mountPiont: '/m' } as UserConfig, 'S3B_CONFIG_UNKNOWN_OPTION', /did you mean "mountPoint"\?/);
});

test('fileMode: 0600, 0400 with readOnly (from either source), an explicit mode is kept', { timeout: 5_000 }, () => {
  assert.equal(resolve(['--readOnly', 'b', '/m']).config.fileMode, 0o400);
  assert.equal(resolve(['b', '/m'], { readOnly: true }).config.fileMode, 0o400);
  assert.equal(resolve(['-o', 'ro', 'b', '/m']).config.fileMode, 0o400);
  assert.equal(resolve(['--readOnly', '--fileMode=0644', 'b', '/m']).config.fileMode, 0o644);
  assert.equal(resolve(['b', '/m'], { fileMode: 0o640 }).config.fileMode, 0o640);
});

test('bucket/subdir becomes the prefix subdir/ (as in the C tool\'s s3b_config.c)', { timeout: 5_000 }, () => {
  const { config } = resolve(['bucket/disks/one', '/mnt']);
  assert.equal(config.bucket, 'bucket');
  assert.equal(config.prefix, 'disks/one/');
  assert.equal(resolve(['--prefix=p-', 'bucket', '/mnt']).config.prefix, 'p-', 'an explicit prefix is used exactly as given');
  assert.equal(resolve(['b/sub', '/m'], { prefix: '' }).config.prefix, 'sub/', 'an empty prefix does not conflict');
  for (const bad of ['bucket/', 'bucket//x', 'bucket/x/', 'bucket/a//b']) {
    fails([bad, '/mnt'], null, 'S3B_CONFIG_INVALID', /invalid subdirectory/);
  }
  fails(['/bucket', '/mnt'], null, 'S3B_CONFIG_INVALID', /may not be empty or start with "\/"/);
  fails(['', '/mnt'], null, 'S3B_CONFIG_INVALID', /may not be empty/);
  fails(['--prefix=p/', 'bucket/sub', '/mnt'], null, 'S3B_CONFIG_INVALID', /sets the prefix "sub\/", but --prefix=p\/ was also given/);
});

test('bucket/subdir on the command line is a flag: it overrides the config file\'s prefix', { timeout: 5_000 }, () => {
  assert.equal(resolve(['bucket/sub', '/mnt'], { prefix: 'p/' }).config.prefix, 'sub/');
  assert.equal(resolve(['bucket/sub', '/mnt'], { bucket: 'fb/fsub', prefix: 'p/' }).config.prefix, 'sub/');
  // A plain bucket argument sets no prefix: the file's applies.
  assert.equal(resolve(['bucket', '/mnt'], { prefix: 'p/' }).config.prefix, 'p/');
  // The argument replaces the file's bucket as a whole, subdir included.
  const other = resolve(['other', '/mnt'], { bucket: 'fb/fsub' }).config;
  assert.deepEqual([other.bucket, other.prefix], ['other', '']);
  // In the file, bucket/subdir is the file's prefix: --prefix overrides it, the file's own prefix conflicts with it.
  assert.equal(resolve(['/mnt'], { bucket: 'fb/fsub' }).config.prefix, 'fsub/');
  assert.equal(resolve(['--prefix=p-', '/mnt'], { bucket: 'fb/fsub' }).config.prefix, 'p-');
  fails(['/mnt'], { bucket: 'fb/fsub', prefix: 'p/' }, 'S3B_CONFIG_INVALID', /bucket "fb\/fsub" in the config file sets the prefix "fsub\/", but the file also sets prefix "p\/"; keep one of them/);
  assert.equal(resolve(['/mnt'], { bucket: 'fb/fsub', prefix: '' }).config.prefix, 'fsub/');
});

test('mount needs a bucket and a mount point; the file may supply them, the command line wins', { timeout: 5_000 }, () => {
  fails(['bucket'], null, 'S3B_USAGE', /^missing mount point; usage: s3backer \[options\] bucket\[\/subdir\] mountpoint; see --help$/);
  fails([], null, 'S3B_USAGE', /^missing bucket; usage: s3backer \[options\] bucket\[\/subdir\] mountpoint/);
  fails(['a', 'b', 'c'], null, 'S3B_USAGE', /too many arguments: "c"/);
  let config = resolve([], { bucket: 'fb/sub', mountPoint: '/fmnt' }).config;
  assert.deepEqual([config.bucket, config.prefix, config.mountPoint], ['fb', 'sub/', '/fmnt']);
  config = resolve(['cli'], { mountPoint: '/fmnt' }).config;
  assert.deepEqual([config.bucket, config.mountPoint], ['cli', '/fmnt']);
  config = resolve(['cli', '/cmnt'], { bucket: 'fb', mountPoint: '/fmnt' }).config;
  assert.deepEqual([config.bucket, config.mountPoint], ['cli', '/cmnt']);
  assert.equal(resolve(['b', 'rel/mnt']).config.mountPoint, '/work/dir/rel/mnt', 'a relative mount point is made absolute');
});

test('with the bucket from the config file, a single argument is the mount point', { timeout: 5_000 }, () => {
  let config = resolve(['/cmnt'], { bucket: 'fb/sub' }).config;
  assert.deepEqual([config.bucket, config.prefix, config.mountPoint], ['fb', 'sub/', '/cmnt']);
  config = resolve(['cmnt'], { bucket: 'fb', mountPoint: '/fmnt' }).config;
  assert.deepEqual([config.bucket, config.mountPoint], ['fb', '/work/dir/cmnt'], 'the command line\'s mount point wins');
  config = resolve(['--test', '/m'], { bucket: '/d' }).config;
  assert.deepEqual([config.bucket, config.mountPoint], ['/d', '/m'], 'the same for --test\'s directory');
  // --erase and --reset-mounted-flag take no mount point: their one argument is the bucket.
  assert.equal(resolve(['--erase', 'cli'], { bucket: 'fb' }).config.bucket, 'cli');
  fails(['a', 'b', 'c'], { bucket: 'fb' }, 'S3B_USAGE', /too many arguments: "c"/);
});

test('--erase and --reset-mounted-flag take the bucket only (a mount point is an error, as in C)', { timeout: 5_000 }, () => {
  const erase = resolve(['--erase', 'bucket/sub']);
  assert.equal(erase.command, 'erase');
  assert.equal(erase.config.bucket, 'bucket');
  assert.equal(erase.config.prefix, 'sub/');
  assert.equal(Object.hasOwn(erase.config, 'mountPoint'), false);
  assert.equal(resolve(['--reset-mounted-flag', 'b']).command, 'reset-mounted-flag');
  assert.equal(resolve(['-o', 'reset-mounted-flag', 'b']).command, 'reset-mounted-flag');
  fails(['--erase', 'b', '/mnt'], null, 'S3B_USAGE', /^--erase takes no mount point \(got "\/mnt"\); usage: s3backer --erase \[options\] bucket\[\/subdir\]/);
  fails(['--reset-mounted-flag', 'b', '/mnt'], null, 'S3B_USAGE', /usage: s3backer --reset-mounted-flag \[options\] bucket/);
  fails(['--erase'], null, 'S3B_USAGE', /missing bucket; usage: s3backer --erase/);
  // A mount point in the config file (there for mounting) is simply not used.
  assert.equal(Object.hasOwn(resolve(['--erase'], { bucket: 'b', mountPoint: '/m' }).config, 'mountPoint'), false);
  fails(['--erase', '--reset-mounted-flag', 'b'], null, 'S3B_CONFIG_INVALID', /cannot be combined/);
});

test('--help and --version need no arguments and ignore the config file', { timeout: 5_000 }, () => {
  assert.equal(resolve(['--help']).command, 'help');
  assert.equal(resolve(['-v']).command, 'version');
  assert.equal(resolve(['--erase', '--help', 'a', 'b', 'c'], { frobnicate: 1 } as UserConfig).command, 'help');
  assert.equal(detectCommand(parseArgv(['-h', '-v'])), 'help');
  assert.equal(detectCommand(parseArgv(['b', '/m'])), 'mount');
});

test('--test: the directory store; the first argument is a directory, not bucket/subdir', { timeout: 5_000 }, () => {
  const { config } = resolve(['--test', 'some/dir/path', 'mnt']);
  assert.equal(config.store, 'dir');
  assert.equal(config.bucket, '/work/dir/some/dir/path');
  assert.equal(config.prefix, '', 'no subdir split');
  assert.equal(resolve(['--test', '/abs/dir', '/m']).config.bucket, '/abs/dir');
  assert.equal(resolve(['--test', '--store=dir', '/d', '/m']).config.store, 'dir');
  assert.equal(resolve(['--store=dir', 'rel/d', '/m']).config.bucket, '/work/dir/rel/d', '--store=dir is the same as --test');
  assert.equal(resolve(['--store=memory', 'b/sub', '/m']).config.prefix, 'sub/');
  assert.equal(resolve(['/d', '/m'], { test: true }).config.store, 'dir');
  assert.equal(resolve(['--erase', '--test', 'd']).config.bucket, '/work/dir/d');
  fails(['--test', '--store=memory', '/d', '/m'], null, 'S3B_CONFIG_INVALID', /--test means --store=dir/);
  fails(['--test', '/d'], null, 'S3B_USAGE', /missing mount point/);
});

test('plugins from the file: disabled entries dropped, order kept, non-plugins rejected', { timeout: 5_000 }, () => {
  const a = plugin('a'); const b = plugin('b'); const c = plugin('c'); const d = plugin('d');
  const { plugins } = resolve(['b', '/m'], { plugins: [a, false, null, undefined, [b, false], [c, true], d] });
  assert.deepEqual(plugins.map((p) => p.name), ['a', 'c', 'd']);
  assert.equal(plugins[0], a, 'the plugin objects themselves');
  fails(['b', '/m'], { plugins: [a, { name: 'x' } as S3BackerPlugin] }, 'S3B_CONFIG_INVALID', /plugins\[1\] .*is not a plugin/);
  fails(['b', '/m'], { plugins: [[a] as unknown as [S3BackerPlugin, boolean]] }, 'S3B_CONFIG_INVALID', /plugins\[0\] .*\[plugin, true\|false\]/);
  fails(['b', '/m'], { plugins: a as unknown as S3BackerPlugin[] }, 'S3B_CONFIG_INVALID', /plugins .*must be an array/);
});

test('cross-flag checks (the C tool\'s validate_config)', { timeout: 5_000 }, () => {
  fails(['--initialRetryPause=5000', '--maxRetryPause=1000', 'b', '/m'], null, 'S3B_CONFIG_INVALID',
    /--initialRetryPause=5000 is larger than --maxRetryPause=1000/);
  fails(['b', '/m'], { maxRetryPause: 100 }, 'S3B_CONFIG_INVALID', /--initialRetryPause=200 is larger than --maxRetryPause=100/);
  assert.equal(resolve(['--initialRetryPause=1000', '--maxRetryPause=1000', 'b', '/m']).config.maxRetryPause, 1000);
  // --ssl with an http:// --baseURL is the s3 plugin's check (it only matters for that store): test/plugins/s3-store.test.ts.
  assert.equal(resolve(['--ssl', '--baseURL=https://s3.example/', 'b', '/m']).config.ssl, true);
  assert.equal(resolve(['--baseURL=http://127.0.0.1:4568/', 'b', '/m']).config.ssl, false);
  fails(['--accessKey=k', 'b', '/m'], { accessKeyEnv: 'SECRET' }, 'S3B_CONFIG_INVALID', /--accessKey and --accessKeyEnv/);
});

test('fuse options are passed on in order', { timeout: 5_000 }, () => {
  assert.deepEqual(resolve(['-o', 'allow_other,uid=0', '-o', 'ro', 'b', '/m']).fuseOptions, ['allow_other', 'uid=0', 'ro']);
});

test('the result is frozen', { timeout: 5_000 }, () => {
  const input: ResolveConfigInput = { cli: parseArgv(['-o', 'ro', 'b', '/m']), file: { plugins: [plugin('p')] }, cwd: CWD };
  const result = resolveConfig(input);
  assert.ok(Object.isFrozen(result));
  assert.ok(Object.isFrozen(result.config));
  assert.ok(Object.isFrozen(result.plugins));
  assert.ok(Object.isFrozen(result.fuseOptions));
  assert.throws(() => { (result.config as { size?: number }).size = 1; }, TypeError);
  assert.throws(() => { (result.plugins as S3BackerPlugin[]).push(plugin('q')); }, TypeError);
  // The input is not frozen or aliased.
  input.cli.fuseOptions.push('allow_other');
  assert.deepEqual(result.fuseOptions, ['ro']);
});

test('codec flags: --compress and --encrypt stand alone or take a value; stray or conflicting codec flags are refused', { timeout: 5_000 }, () => {
  const mount = ['bucket', '/mnt'];
  assert.equal(resolve(['--compress', ...mount]).config.compress, 'deflate');
  assert.equal(resolve(['--compress=zstd', '--compress-level=19', ...mount]).config.compressLevel, 19);
  assert.equal(resolve(['--encrypt', '--password=x', ...mount]).config.encrypt, 'AES-128-CBC');
  assert.equal(resolve(['-o', 'encrypt=AES-256-CBC,passwordFile=/pw', ...mount]).config.passwordFile, '/pw');
  fails(['--compress=gzip', ...mount], null, 'S3B_CONFIG_INVALID', /deflate, zstd, lz4/);
  fails(['--password=x', ...mount], null, 'S3B_CONFIG_INVALID', /--password only applies to an encrypted volume/);
  fails(['--keyLength=32', ...mount], null, 'S3B_CONFIG_INVALID', /--keyLength only applies/);
  fails(['--encrypt', '--password=x', '--passwordFile=/pw', ...mount], null, 'S3B_CONFIG_INVALID', /cannot both be given/);
  fails(['--compress-level=3', ...mount], null, 'S3B_CONFIG_INVALID', /needs --compress/);
  fails(['--compress=9', '--compress-level=3', ...mount], null, 'S3B_CONFIG_INVALID', /already gives the deflate level/);
  assert.equal(resolve(['--encrypt', '--password=x', '--compress-level=9', ...mount]).config.compressLevel, 9, 'encryption compresses, so a level is meaningful');
});

const MOUNT = ['bucket', '/mnt'];

test('MD5 cache flags need the cache, and --md5CacheTime must cover --minWriteDelay (validate_config)', { timeout: 5_000 }, () => {
  fails(['--md5CacheTime=1000', ...MOUNT], null, 'S3B_CONFIG_INVALID', /--md5CacheTime=1000 needs the MD5 cache, but --md5CacheSize is 0 .*add --md5CacheSize=N or drop --md5CacheTime/);
  fails(['--minWriteDelay=500', ...MOUNT], null, 'S3B_CONFIG_INVALID', /--minWriteDelay=500 needs the MD5 cache.*add --md5CacheSize=N or drop --minWriteDelay/);
  fails(['--md5CacheSize=100', '--md5CacheTime=400', '--minWriteDelay=500', ...MOUNT], null, 'S3B_CONFIG_INVALID',
    /--md5CacheTime=400 is shorter than --minWriteDelay=500.*raise --md5CacheTime to at least 500/);
  fails(['--md5CacheSize=100', '--minWriteDelay=500', ...MOUNT], { md5CacheTime: 400 }, 'S3B_CONFIG_INVALID', /shorter than --minWriteDelay/);
  const ok = resolve(['--md5CacheSize=100', '--md5CacheTime=500', '--minWriteDelay=500', ...MOUNT]).config;
  assert.deepEqual([ok.md5CacheSize, ok.md5CacheTime, ok.minWriteDelay], [100, 500, 500]);
  assert.equal(resolve(['--md5CacheSize=100', '--minWriteDelay=500', ...MOUNT]).config.md5CacheTime, 0, '0 = until evicted: no lower bound');
  // Read-only, nothing is written, so the MD5 cache has no effect (documented on the flags) and its settings are not checked.
  assert.equal(resolve(['--readOnly', '--minWriteDelay=500', '--md5CacheTime=10', ...MOUNT]).config.readOnly, true);
});

test('--sse=aws:kms and --sse-key-id need each other', { timeout: 5_000 }, () => {
  fails(['--sse=aws:kms', ...MOUNT], null, 'S3B_CONFIG_INVALID', /--sse=aws:kms needs the KMS key.*add --sse-key-id=ID/);
  fails(['--sse-key-id=k1', ...MOUNT], null, 'S3B_CONFIG_INVALID', /--sse-key-id only applies with --sse=aws:kms \(--sse was not given\); add --sse=aws:kms or drop --sse-key-id/);
  fails(['--sse=AES256', '--sse-key-id=k1', ...MOUNT], null, 'S3B_CONFIG_INVALID', /--sse-key-id only applies with --sse=aws:kms \(--sse is AES256\)/);
  assert.equal(resolve(['--sse=aws:kms', '--sse-key-id=k1', ...MOUNT]).config.sseKeyId, 'k1');
  assert.equal(resolve(['--sse=AES256', ...MOUNT]).config.sse, 'AES256');
});

test('--accessEC2IAM excludes every other source of credentials; -IMDSv2 needs it', { timeout: 5_000 }, () => {
  for (const flag of ['--accessId=AKIA', '--accessKey=secret', '--accessKeyEnv=SECRET', '--accessFile=/etc/pw']) {
    const name = flag.slice(0, flag.indexOf('='));
    fails(['--accessEC2IAM=role', flag, ...MOUNT], null, 'S3B_CONFIG_INVALID',
      new RegExp(`--accessEC2IAM takes the credentials from the EC2 instance metadata, so ${name} cannot be given too; drop ${name} or --accessEC2IAM`));
  }
  fails(['--accessEC2IAM=role', ...MOUNT], { accessId: 'AKIA' }, 'S3B_CONFIG_INVALID', /so --accessId cannot be given too/);
  // An empty --accessId is no key ID (validate_config): nothing to conflict with.
  assert.equal(resolve(['--accessEC2IAM=role', '--accessId=', ...MOUNT]).config.accessEC2IAM, 'role');
  fails(['--accessEC2IAM-IMDSv2', ...MOUNT], null, 'S3B_CONFIG_INVALID', /--accessEC2IAM-IMDSv2 only applies with --accessEC2IAM=ROLE/);
  assert.equal(resolve(['--accessEC2IAM=role', '--accessEC2IAM-IMDSv2', ...MOUNT]).config.accessEC2IAM, 'role');
});

test('--sharedDiskMode refuses the flags the C tool refuses with it, even at their defaults', { timeout: 5_000 }, () => {
  fails(['--sharedDiskMode', '--blockCacheFile=/var/cache/s3b', ...MOUNT], null, 'S3B_CONFIG_INVALID',
    /--sharedDiskMode cannot be combined with --blockCacheFile.*drop --blockCacheFile/);
  for (const item of ['listBlocks', 'listBlocksThreads=16', 'blockCacheSize=0', 'blockCacheSync', 'blockCacheThreads=20', 'blockCacheTimeout=0',
    'blockCacheWriteDelay=0', 'blockCacheMaxDirty=0', 'blockCacheRecoverDirtyBlocks', 'readAhead=0', 'readAheadTrigger=2',
    'blockCacheNumProtected=0', 'blockCacheNoVerify', 'blockCacheFileAdvise', 'minWriteDelay=0', 'md5CacheSize=0', 'md5CacheTime=0']) {
    const name = item.split('=')[0]!;
    fails(['--sharedDiskMode', '-o', item, ...MOUNT], null, 'S3B_CONFIG_INVALID',
      new RegExp(`^--${name} cannot be used with --sharedDiskMode, which turns every cache, the block survey and the MD5 cache off .*; drop --${name}$`));
  }
  // From the config file too, whichever side sets the mode.
  fails(['--sharedDiskMode', ...MOUNT], { blockCacheSize: 1000 }, 'S3B_CONFIG_INVALID', /--blockCacheSize cannot be used with --sharedDiskMode/);
  fails(['--readAhead=0', ...MOUNT], { sharedDiskMode: true }, 'S3B_CONFIG_INVALID', /--readAhead cannot be used with --sharedDiskMode/);
  fails(['--sharedDiskMode', '--directIO=false', ...MOUNT], null, 'S3B_CONFIG_INVALID', /always bypasses the page cache.*drop --directIO=false/);
  assert.equal(resolve(['--sharedDiskMode', '--directIO', ...MOUNT]).config.sharedDiskMode, true);
  assert.equal(resolve(['--sharedDiskMode=false', '--blockCacheFile=/c', ...MOUNT]).config.blockCacheFile, '/c');
});

test('--insecure and --cacert only with an https endpoint', { timeout: 5_000 }, () => {
  fails(['--baseURL=http://127.0.0.1:4568/', '--insecure', ...MOUNT], null, 'S3B_CONFIG_INVALID',
    /--insecure only applies to https endpoints, but --baseURL is http:\/\/127\.0\.0\.1:4568\/; use an https:\/\/ --baseURL or drop --insecure/);
  fails(['--baseURL=http://127.0.0.1:4568/', '--cacert=/ca.pem', ...MOUNT], null, 'S3B_CONFIG_INVALID', /--cacert only applies to https endpoints/);
  assert.equal(resolve(['--baseURL=https://minio.local/', '--insecure', '--cacert=/ca.pem', ...MOUNT]).config.insecure, true);
  assert.equal(resolve(['--cacert=/ca.pem', ...MOUNT]).config.cacert, '/ca.pem', 'the default endpoint is https');
  assert.equal(resolve(['--baseURL=http://127.0.0.1:4568/', '--insecure=false', ...MOUNT]).config.insecure, false);
});

test('a setting of a feature that is off is refused: --listBlocksThreads, --statsFileMirrorInterval', { timeout: 5_000 }, () => {
  fails(['--listBlocksThreads=4', ...MOUNT], null, 'S3B_CONFIG_INVALID', /^--listBlocksThreads only applies with --listBlocks; add --listBlocks or drop --listBlocksThreads$/);
  fails(['--listBlocks=false', ...MOUNT], { listBlocksThreads: 4 }, 'S3B_CONFIG_INVALID', /--listBlocksThreads only applies with --listBlocks/);
  assert.equal(resolve(['--listBlocks', '--listBlocksThreads=4', ...MOUNT]).config.listBlocksThreads, 4);
  fails(['--statsFileMirrorInterval=500', ...MOUNT], null, 'S3B_CONFIG_INVALID',
    /^--statsFileMirrorInterval only applies with --statsFileMirror; add --statsFileMirror=FILE or drop --statsFileMirrorInterval$/);
  assert.equal(resolve(['--statsFileMirror=/run/s3b.stats', '--statsFileMirrorInterval=500', ...MOUNT]).config.statsFileMirrorInterval, 500);
  // The defaults alone are no mistake.
  assert.equal(resolve(MOUNT).config.listBlocksThreads, 16);
});
