import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgv } from '../../src/config/parse-argv.js';
import { resolveConfig } from '../../src/config/merge-config.js';
import { S3BackerError } from '../../src/errors/s3backer-error.js';
import type { ErrorCode } from '../../src/errors/codes.js';

const CWD = '/work/dir';
const resolve = (argv: string[]) => resolveConfig({ cli: parseArgv(argv), file: null, cwd: CWD });

function fails(argv: string[], code: ErrorCode, message: RegExp): void {
  assert.throws(() => resolve(argv), (error: unknown) => {
    assert.ok(error instanceof S3BackerError, `expected an S3BackerError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.match(error.message, message);
    return true;
  });
}

test('--nbd-listen serves bucket[/subdir] with no mount point; read-ahead is off unless given (the C tool\'s NBD default)', { timeout: 5_000 }, () => {
  const { config, command } = resolve(['--nbd-listen=unix:/run/x.sock', 'bucket/sub']);
  assert.equal(command, 'mount');
  assert.equal(config.nbdListen, 'unix:/run/x.sock');
  assert.equal(config.bucket, 'bucket');
  assert.equal(config.prefix, 'sub/');
  assert.equal(config.mountPoint, undefined);
  assert.equal(config.readAhead, 0);
  assert.equal(resolve(['--nbd-listen=127.0.0.1:10809', '--readAhead=8', 'bucket']).config.readAhead, 8);
  // FUSE keeps the C tool's FUSE default.
  assert.equal(resolve(['bucket', '/mnt']).config.readAhead, 4);
});

test('--nbd takes the kernel device as its second argument (the C tool\'s `--nbd bucket /dev/nbdX`)', { timeout: 5_000 }, () => {
  const { config } = resolve(['--nbd', 'bucket', '/dev/nbd3']);
  assert.equal(config.nbd, true);
  assert.equal(config.nbdDevice, '/dev/nbd3');
  assert.equal(config.mountPoint, undefined);
  assert.equal(config.readAhead, 0);
  fails(['--nbd', 'bucket'], 'S3B_USAGE', /missing NBD device \(\/dev\/nbdX\)/);
});

test('NBD command lines that cannot mean anything are refused with the fix', { timeout: 5_000 }, () => {
  fails(['--nbd-listen=unix:/x', 'bucket', '/mnt'], 'S3B_USAGE', /--nbd-listen serves with no mount point \(got "\/mnt"\)/);
  fails(['--nbd', '--nbd-listen=unix:/x', 'bucket', '/dev/nbd0'], 'S3B_CONFIG_INVALID', /--nbd and --nbd-listen cannot be combined/);
  fails(['--nbd-listen=unix:/x', '--erase', 'bucket'], 'S3B_CONFIG_INVALID', /--nbd-listen cannot be combined with --erase/);
  fails(['--nbd', '--reset-mounted-flag', 'bucket'], 'S3B_CONFIG_INVALID', /--nbd cannot be combined with --reset-mounted-flag/);
  fails(['--nbd-listen=unix:/x', '--filename=disk', '--directIO', 'bucket'], 'S3B_CONFIG_INVALID', /--filename, --directIO are for the FUSE mount and mean nothing with --nbd-listen/);
  fails(['--nbd-tls-cert=c.pem', 'bucket', '/mnt'], 'S3B_CONFIG_INVALID', /--nbd-tls-cert is for an NBD export served with --nbd-listen/);
  fails(['--nbd', '--nbd-tls-cert=c.pem', '--nbd-tls-key=k.pem', 'bucket', '/dev/nbd0'], 'S3B_CONFIG_INVALID', /private Unix socket, where TLS adds nothing/);
  fails(['--nbd-listen=0.0.0.0:10809', '--nbd-tls-cert=c.pem', 'bucket'], 'S3B_CONFIG_INVALID', /--nbd-tls-cert needs --nbd-tls-key too/);
  const tls = resolve(['--nbd-listen=0.0.0.0:10809', '--nbd-tls-cert=c.pem', '--nbd-tls-key=k.pem', 'bucket']).config;
  assert.equal(tls.nbdTlsCert, 'c.pem');
  assert.equal(tls.nbdTlsKey, 'k.pem');
});
