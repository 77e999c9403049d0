import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { isS3BackerError } from '../../src/errors/s3backer-error.js';
import { parseNbdAddress } from '../../src/frontends/nbd/parse-nbd-address.js';
import { nbdUri } from '../../src/frontends/nbd/nbd-uri.js';

test('parseNbdAddress: unix:PATH (made absolute), HOST:PORT, [IPv6]:PORT', () => {
  assert.deepEqual(parseNbdAddress('unix:/run/s3b/disk.sock'), { kind: 'unix', path: '/run/s3b/disk.sock' });
  assert.deepEqual(parseNbdAddress('unix:disk.sock'), { kind: 'unix', path: resolve('disk.sock') });
  assert.deepEqual(parseNbdAddress('127.0.0.1:10809'), { kind: 'tcp', host: '127.0.0.1', port: 10809 });
  assert.deepEqual(parseNbdAddress('localhost:0'), { kind: 'tcp', host: 'localhost', port: 0 });
  assert.deepEqual(parseNbdAddress('nbd-server.example.com:65535'), { kind: 'tcp', host: 'nbd-server.example.com', port: 65535 });
  assert.deepEqual(parseNbdAddress('[::1]:10809'), { kind: 'tcp', host: '::1', port: 10809 });
  assert.deepEqual(parseNbdAddress('[::]:1'), { kind: 'tcp', host: '::', port: 1 });
});

test('parseNbdAddress: bad input is S3B_CONFIG_INVALID saying what is wrong and what is accepted', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /has no port/],
    ['unix:', /names no socket path/],
    [`unix:/${'x'.repeat(120)}`, /at most 107/],
    ['/run/disk.sock', /without the unix: prefix/],
    ['localhost', /has no port/],
    [':10809', /has no host .*0\.0\.0\.0/],
    ['127.0.0.1:', /port ""/],
    ['127.0.0.1:65536', /port "65536"/],
    ['127.0.0.1:-1', /port "-1"/],
    ['127.0.0.1:http', /port "http"/],
    ['::1:10809', /IPv6 address without brackets/],
    ['[::1]', /has no port after the bracketed IPv6 address/],
    ['[nonsense]:10809', /not an IPv6 address/],
    ['[127.0.0.1]:10809', /not an IPv6 address/],
    ['bad host:10809', /neither an IPv4 address nor a host name/],
  ];
  for (const [text, reason] of cases) {
    assert.throws(() => parseNbdAddress(text), (error) => {
      assert.ok(isS3BackerError(error, 'S3B_CONFIG_INVALID'), `"${text}" is S3B_CONFIG_INVALID`);
      assert.match((error as Error).message, reason, `"${text}"`);
      assert.match((error as Error).message, /give unix:\/path\/to\.sock, HOST:PORT or \[IPv6\]:PORT/);
      return true;
    });
  }
});

test('nbdUri: the URI the NBD tools take, for log lines', () => {
  assert.equal(nbdUri({ kind: 'unix', path: '/run/s3b/disk.sock' }, 'bucket/sub dir', false), 'nbd+unix:///bucket%2Fsub%20dir?socket=/run/s3b/disk.sock');
  assert.equal(nbdUri({ kind: 'tcp', host: '127.0.0.1', port: 10809 }, 'vol', true), 'nbds://127.0.0.1:10809/vol');
  assert.equal(nbdUri({ kind: 'tcp', host: '::1', port: 10809 }, '', false), 'nbd://[::1]:10809/');
});
