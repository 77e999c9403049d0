// The S3 store's lean object path (plugins/s3/lean-object-client.ts) against the SDK path it
// replaces: the same requests (URL, headers, signature), the same answers, the same failures, stats
// and messages; plus what the SDK did for us (key encoding, vhost, session tokens, anonymous
// requests, clock skew, timeouts). Scripted servers on 127.0.0.1 capture every request.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent as HttpAgent, createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent, createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { S3Client } from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@smithy/core/checksum';
import { S3Store, type S3StoreOptions } from '../../plugins/s3/index.js';
import { RetryStore, RetryStats, type RetryPolicy } from '../../plugins/retry/index.js';
import { LeanObjectClient } from '../../plugins/s3/lean-object-client.js';
import { resolveS3ObjectEndpoint } from '../../plugins/s3/s3-object-endpoint.js';
import { ClockSkew } from '../../plugins/s3/clock-skew.js';
import { isS3BackerError } from '../../src/errors/s3backer-error.js';
import { runBackendConformance } from '../conformance/index.js';
import { startS3rver, type S3rverServer } from '../helpers/s3rver-server.js';

type ObjectPath = 'lean' | 'sdk';
const PATHS: readonly ObjectPath[] = ['sdk', 'lean'];
const STATIC = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

let s3rver: S3rverServer;
let buckets = 0;
before(async () => {
  s3rver = await startS3rver();
});
after(async () => {
  await s3rver?.stop();
});

async function freshBucket(): Promise<string> {
  const name = `lean-${++buckets}`;
  await s3rver.createBucket(name);
  return name;
}

function s3rverStore(bucket: string, objectPath: ObjectPath, overrides: Partial<S3StoreOptions> = {}): S3Store {
  return new S3Store({
    endpoint: s3rver.endpoint, bucket, region: 'us-east-1', forcePathStyle: true,
    credentials: { kind: 'static', accessKeyId: s3rver.accessId, secretAccessKey: s3rver.accessKey, source: 'test' },
    timeoutMs: 10_000, conditionalPut: false, conditionalGet: false, objectPath, ...overrides,
  });
}

// The SDK path keeps working (objectPath: 'sdk', and the fallback for endpoints the lean path
// cannot serve): the whole contract against s3rver. The default (lean) runs in s3-store.test.ts.
runBackendConformance({ test, name: 's3 (s3rver, objectPath: sdk)', factory: async () => s3rverStore(await freshBucket(), 'sdk') });

// --- scripted server ------------------------------------------------------------------------------

interface Seen { method: string; url: string; headers: IncomingHttpHeaders; body: Buffer }
type Reply = (req: IncomingMessage, res: ServerResponse, seen: Seen) => void;
interface CleanupContext { after(fn: () => Promise<void>): void }

/** A scripted S3 endpoint on 127.0.0.1 that keeps every request with its body; the last reply repeats. */
async function scriptedServer(t: CleanupContext, replies: Reply[] | Reply): Promise<{ endpoint: string; port: number; seen: Seen[]; connections: () => number }> {
  const script = Array.isArray(replies) ? replies : [replies];
  const seen: Seen[] = [];
  let connections = 0;
  const http = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks) };
      seen.push(request);
      (script.length > 1 ? script.shift()! : script[0]!)(req, res, request);
    });
  });
  http.on('connection', () => { connections++; });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  t.after(() => new Promise((resolve) => { http.closeAllConnections(); http.close(() => resolve()); }));
  return { endpoint: `http://127.0.0.1:${port}/`, port, seen, connections: () => connections };
}

const ETAG = '"0123456789abcdef0123456789abcdef"';
const ok: Reply = (req, res) => {
  if (req.method === 'GET') {
    res.writeHead(200, { etag: ETAG, 'content-type': 'application/octet-stream', 'content-length': '5' });
    res.end('hello');
  } else {
    res.writeHead(req.method === 'DELETE' ? 204 : 200, { etag: ETAG, 'content-length': '0' });
    res.end();
  }
};

function xmlError(status: number, code: string, extraHeaders: Record<string, string> = {}): Reply {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/xml', ...extraHeaders });
    res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>scripted ${code}</Message></Error>`);
  };
}

/** An S3 store as a mount uses it: inside the retry layer (C schedule without jitter, pauses recorded, not slept). */
type Scripted = RetryStore & { readonly s3: S3Store; readonly stats: S3Store['stats']; readonly retries: RetryStats };

function scriptedStore(t: CleanupContext, endpoint: string, objectPath: ObjectPath, overrides: Partial<S3StoreOptions> & { retry?: RetryPolicy } = {}, sleeps: number[] = []): Scripted {
  const { retry = { initialPauseMs: 10, maxTotalPauseMs: 100 }, ...options } = overrides;
  const s3 = new S3Store({
    endpoint, bucket: 'bkt', region: 'us-east-1', forcePathStyle: true,
    credentials: { kind: 'static', ...STATIC, source: 'test' },
    timeoutMs: 5_000, objectPath, ...options,
  });
  const retries = new RetryStats('http');
  const store = Object.assign(new RetryStore(s3, {
    policy: retry, attemptTimeoutMs: options.timeoutMs ?? 5_000, stats: retries, random: () => 1, sleep: async (ms) => { sleeps.push(ms); },
  }), { s3, stats: s3.stats, retries });
  t.after(() => store.close());
  return store;
}

/** The s3 store's http_* and curl_* lines and the retry layer's. */
function allStats(store: Scripted): Record<string, string> {
  return Object.fromEntries([...store.stats.lines(), ...store.retries.lines()]);
}

/**
 * Re-sign what the server RECEIVED (method, path, the headers named in SignedHeaders, body) with
 * the SDK's own SignatureV4 and compare: proves the signature covers exactly what went on the wire.
 */
async function assertValidSignature(seen: Seen, credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }, region = 'us-east-1'): Promise<void> {
  const authorization = String(seen.headers.authorization);
  const match = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, SignedHeaders=([^,]+), Signature=[0-9a-f]{64}$/.exec(authorization);
  assert.ok(match, `an AWS4-HMAC-SHA256 Authorization header: ${authorization}`);
  assert.equal(match[1], credentials.accessKeyId);
  assert.equal(match[3], region);
  const headers: Record<string, string> = {};
  for (const name of match[4]!.split(';')) {
    const value = seen.headers[name];
    assert.ok(value !== undefined, `signed header ${name} was sent`);
    headers[name] = String(value);
  }
  for (const required of ['host', 'x-amz-date', 'x-amz-content-sha256']) assert.ok(required in headers, `${required} is signed`);
  const xAmzDate = headers['x-amz-date']!;
  const signingDate = new Date(`${xAmzDate.slice(0, 4)}-${xAmzDate.slice(4, 6)}-${xAmzDate.slice(6, 8)}T${xAmzDate.slice(9, 11)}:${xAmzDate.slice(11, 13)}:${xAmzDate.slice(13, 15)}Z`);
  const [path, query] = seen.url.split('?');
  assert.equal(query, undefined, 'no query string');
  const signer = new SignatureV4({ credentials, region, service: 's3', sha256: Sha256, uriEscapePath: false });
  const expected = await signer.sign({ method: seen.method, protocol: 'http:', hostname: '127.0.0.1', path: path!, query: {}, headers, body: seen.body }, { signingDate });
  assert.equal(authorization, expected.headers.authorization, `${seen.method} ${seen.url}`);
  assert.equal(seen.headers['x-amz-content-sha256'], createHash('sha256').update(seen.body).digest('hex'), 'the payload hash is the body\'s');
}

/** The headers both paths send (the SDK adds user agents and invocation ids; signatures differ by them). */
function comparable(seen: Seen): { method: string; path: string; headers: Record<string, string> } {
  const skip = new Set(['user-agent', 'x-amz-user-agent', 'amz-sdk-invocation-id', 'amz-sdk-request', 'authorization', 'x-amz-date', 'connection']);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(seen.headers)) if (!skip.has(name)) headers[name] = String(value);
  // The SDK tags its requests `?x-id=GetObject` (ignored by S3); the lean path does not.
  return { method: seen.method, path: seen.url.replace(/\?x-id=[A-Za-z]+$/, ''), headers };
}

// --- the same requests ----------------------------------------------------------------------------

test('lean path: the same method, path and headers as the SDK for GET, HEAD, PUT and DELETE; signatures verify', { timeout: 30_000 }, async (t) => {
  for (const forcePathStyle of [true, false]) {
    const server = await scriptedServer(t, ok);
    for (const objectPath of PATHS) {
      const store = scriptedStore(t, server.endpoint, objectPath, { acl: 'public-read', forcePathStyle });
      await store.get('vol/0000002a');
      await store.head('a b+c/ünï');
      await store.delete('vol/00000003');
      await store.put('vol/s3backer-mounted', Buffer.from('token'), {
        metadata: { 's3backer-blocksize': '4096', 's3backer-filesize': '1048576' }, contentType: 'text/plain', contentEncoding: 'deflate', ifNoneMatch: '*',
      });
      // No Content-Type given: the SDK's application/octet-stream.
      await store.put('vol/00000001', Buffer.alloc(65536, 7));
      await store.put('empty', Buffer.alloc(0));
    }
    const half = server.seen.length / 2;
    assert.equal(half, 6);
    for (let i = 0; i < half; i++) {
      const sdk: Seen = server.seen[i]!;
      const lean: Seen = server.seen[half + i]!;
      assert.deepEqual(comparable(lean), comparable(sdk), `request ${i} (forcePathStyle ${forcePathStyle})`);
      await assertValidSignature(lean, STATIC);
    }
    // --vhost on an IP address: the SDK (and so the lean path) falls back to path style.
    assert.equal(server.seen[half]!.url, '/bkt/vol/0000002a');
    assert.equal(server.seen[half + 1]!.url, '/bkt/a%20b%2Bc/%C3%BCn%C3%AF');
  }
});

test('lean path: keys with spaces, unicode, "+" and reserved characters are percent-encoded and signed as sent', { timeout: 30_000 }, async (t) => {
  const server = await scriptedServer(t, ok);
  const store = scriptedStore(t, server.endpoint, 'lean');
  const keys: Array<[string, string]> = [
    ['with space', '/bkt/with%20space'],
    ['a+b', '/bkt/a%2Bb'],
    ['ünïcødé/ключ', '/bkt/%C3%BCn%C3%AFc%C3%B8d%C3%A9/%D0%BA%D0%BB%D1%8E%D1%87'],
    ["x!'()*~._-", '/bkt/x%21%27%28%29%2A~._-'],
    ['q?x#y&z=1%', '/bkt/q%3Fx%23y%26z%3D1%25'],
  ];
  for (const [key] of keys) await store.put(key, Buffer.from(key));
  for (let i = 0; i < keys.length; i++) {
    assert.equal(server.seen[i]!.url, keys[i]![1], keys[i]![0]);
    assert.equal(decodeURIComponent(server.seen[i]!.url.slice('/bkt/'.length)), keys[i]![0]);
    await assertValidSignature(server.seen[i]!, STATIC);
  }
});

test('lean path: odd keys round-trip through s3rver and list (via the SDK) under the names written', { timeout: 30_000 }, async () => {
  const bucket = await freshBucket();
  const lean = s3rverStore(bucket, 'lean');
  const sdk = s3rverStore(bucket, 'sdk');
  const keys = ['a+b', 'with space', 'ünïcødé/ключ', "x!'()*~._-", 'p%20literal', 'emoji 😀'];
  for (const key of keys) await lean.put(key, Buffer.from(`body of ${key}`), { metadata: { name: 'v' } });
  const listed: string[] = [];
  for await (const key of sdk.list()) listed.push(key);
  assert.deepEqual(listed, [...keys].sort());
  for (const key of keys) {
    assert.equal((await sdk.get(key))?.body.toString(), `body of ${key}`, `SDK reads what lean wrote: ${key}`);
    assert.equal((await lean.head(key))?.size, Buffer.byteLength(`body of ${key}`));
    await lean.delete(key);
    assert.equal(await sdk.head(key), null);
  }
  await lean.close();
  await sdk.close();
});

test('lean path: --vhost on a host name sends the bucket in the Host header, signed', { timeout: 30_000 }, async (t) => {
  const server = await scriptedServer(t, ok);
  const client = new S3Client({ endpoint: `http://localhost:${server.port}/`, forcePathStyle: false, region: 'us-east-1', credentials: STATIC });
  t.after(async () => client.destroy());
  const resolution = await resolveS3ObjectEndpoint(client, 'bkt');
  assert.ok('endpoint' in resolution);
  assert.equal(resolution.endpoint.host, `bkt.localhost:${server.port}`);
  // bkt.localhost does not resolve here: connect to 127.0.0.1, as DNS would for a real endpoint.
  const agent = new HttpAgent({ keepAlive: true });
  t.after(async () => agent.destroy());
  const lean = new LeanObjectClient({
    endpoint: { ...resolution.endpoint, hostname: '127.0.0.1' }, credentials: client.config.credentials,
    clock: new ClockSkew({ systemClockOffset: 0 }), agent, timeoutMs: 5000,
  });
  await lean.put('vol/0000 0001', Buffer.from('x'), { contentType: 'application/octet-stream' });
  const { body } = await lean.get('vol/0000 0001');
  assert.equal(body.toString(), 'hello');
  for (const seen of server.seen) {
    assert.equal(seen.headers.host, `bkt.localhost:${server.port}`);
    assert.equal(seen.url, '/vol/0000%200001');
    await assertValidSignature(seen, STATIC);
  }
});

test('lean path: temporary credentials from the SDK default chain send a signed x-amz-security-token', { timeout: 30_000 }, async (t) => {
  const names = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE'] as const;
  const saved = Object.fromEntries(names.map((name) => [name, process.env[name]]));
  const credentials = { accessKeyId: 'ASIATEMPORARY', secretAccessKey: 'temporary/secret', sessionToken: 'FwoGZXIvYXdzEXAMPLE//token+with/odd=chars' };
  process.env.AWS_ACCESS_KEY_ID = credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = credentials.secretAccessKey;
  process.env.AWS_SESSION_TOKEN = credentials.sessionToken;
  delete process.env.AWS_PROFILE;
  t.after(async () => {
    for (const name of names) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });
  const server = await scriptedServer(t, ok);
  const store = scriptedStore(t, server.endpoint, 'lean', { credentials: { kind: 'default-chain' } });
  await store.put('k', Buffer.from('data'));
  await store.get('k');
  assert.equal(server.seen.length, 2);
  for (const seen of server.seen) {
    assert.equal(seen.headers['x-amz-security-token'], credentials.sessionToken);
    assert.match(String(seen.headers.authorization), /SignedHeaders=[^,]*x-amz-security-token/);
    await assertValidSignature(seen, credentials);
  }
});

test('lean path: no credentials anywhere in the default chain is the same S3B_BACKEND_AUTH as through the SDK', { timeout: 30_000 }, async (t) => {
  const emptyHome = await mkdtemp(join(tmpdir(), 's3b-nocreds-'));
  const names = ['HOME', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE',
    'AWS_EC2_METADATA_DISABLED', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_ROLE_ARN'] as const;
  const saved = Object.fromEntries(names.map((name) => [name, process.env[name]]));
  for (const name of names) delete process.env[name];
  // Nothing to find, and no instance metadata service to ask (no network beyond 127.0.0.1).
  process.env.HOME = emptyHome;
  process.env.AWS_CONFIG_FILE = join(emptyHome, 'no-config');
  process.env.AWS_SHARED_CREDENTIALS_FILE = join(emptyHome, 'no-credentials');
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  t.after(async () => {
    for (const name of names) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
    await rm(emptyHome, { recursive: true, force: true });
  });
  const server = await scriptedServer(t, ok);
  const results: Outcome[] = [];
  for (const objectPath of PATHS) {
    results.push(await outcome(scriptedStore(t, server.endpoint, objectPath, { credentials: { kind: 'default-chain' } }), (store) => store.get('k')));
  }
  assert.equal(results[1]!.error?.code, 'S3B_BACKEND_AUTH', results[1]!.error?.message);
  assert.match(results[1]!.error!.message, /no credentials found/);
  assert.deepEqual(results[1], results[0]);
  assert.equal(server.seen.length, 0, 'nothing was sent');
});

test('lean path: anonymous requests (--accessId=) carry no Authorization and no signing headers at all', { timeout: 30_000 }, async (t) => {
  const server = await scriptedServer(t, ok);
  const store = scriptedStore(t, server.endpoint, 'lean', { credentials: { kind: 'anonymous' } });
  await store.put('k', Buffer.from('data'));
  assert.equal((await store.get('k'))?.body.toString(), 'hello');
  await store.head('k');
  await store.delete('k');
  assert.deepEqual(server.seen.map((seen) => seen.method), ['PUT', 'GET', 'HEAD', 'DELETE']);
  for (const seen of server.seen) {
    for (const header of ['authorization', 'x-amz-date', 'x-amz-content-sha256', 'x-amz-security-token']) {
      assert.equal(seen.headers[header], undefined, `${seen.method}: no ${header}`);
    }
  }
  assert.equal(server.seen[0]!.headers['content-length'], '4');
});

test('lean path: an https endpoint is served over TLS on the https agent, payload signed', { timeout: 30_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 's3b-tls-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  } catch (error) {
    const reason = `no openssl to make a test certificate (${(error as Error).message}); .ci/run installs it`;
    console.log(`skipping: ${reason}`);
    t.skip(reason);
    return;
  }
  const [key, cert] = await Promise.all([readFile(join(dir, 'key.pem')), readFile(join(dir, 'cert.pem'))]);
  const seen: Seen[] = [];
  const https = createHttpsServer({ key, cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks) });
      ok(req, res, seen[seen.length - 1]!);
    });
  });
  await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => { https.closeAllConnections(); https.close(() => resolve()); }));
  const { port } = https.address() as AddressInfo;
  const client = new S3Client({ endpoint: `https://localhost:${port}/`, forcePathStyle: true, region: 'eu-west-1', credentials: STATIC });
  t.after(async () => client.destroy());
  const resolution = await resolveS3ObjectEndpoint(client, 'bkt');
  assert.ok('endpoint' in resolution);
  assert.equal(resolution.endpoint.protocol, 'https:');
  const agent = new HttpsAgent({ keepAlive: true, ca: cert });
  t.after(async () => agent.destroy());
  const lean = new LeanObjectClient({
    endpoint: resolution.endpoint, credentials: client.config.credentials, clock: new ClockSkew({ systemClockOffset: 0 }), agent, timeoutMs: 5000,
  });
  await lean.put('k', Buffer.from('over tls'), { contentType: 'application/octet-stream' });
  assert.equal((await lean.get('k')).body.toString(), 'hello');
  assert.equal(seen.length, 2);
  for (const request of seen) {
    assert.equal(request.headers.host, `localhost:${port}`);
    assert.equal(request.url, '/bkt/k');
    await assertValidSignature(request, STATIC, 'eu-west-1');
  }
});

// --- the same answers -----------------------------------------------------------------------------

test('lean path: GET and HEAD answers map to the same objects as through the SDK', { timeout: 30_000 }, async (t) => {
  const reply: Reply = (req, res) => {
    res.writeHead(200, {
      etag: ETAG, 'content-type': 'application/x-s3backer-block', 'content-encoding': 'deflate', 'content-length': '5',
      'x-amz-meta-s3backer-blocksize': '4096', 'X-Amz-Meta-MixedCase': 'Value', 'x-amz-meta-empty': '', 'x-amz-request-id': 'R',
    });
    res.end(req.method === 'GET' ? 'hello' : undefined);
  };
  const server = await scriptedServer(t, reply);
  const [sdk, lean] = PATHS.map((objectPath) => scriptedStore(t, server.endpoint, objectPath));
  const fromSdk = await sdk!.get('k');
  assert.deepEqual(await lean!.get('k'), fromSdk);
  assert.deepEqual(fromSdk?.metadata, { 's3backer-blocksize': '4096', mixedcase: 'Value', empty: '' });
  assert.deepEqual(await lean!.head('k'), await sdk!.head('k'));
  // A big body arrives in many socket chunks: still one intact Buffer.
  const big = Buffer.alloc(3 * 1024 * 1024);
  for (let i = 0; i < big.length; i += 4) big.writeUInt32LE(i, i);
  const bigServer = await scriptedServer(t, (_req, res) => { res.writeHead(200, { etag: ETAG, 'content-length': String(big.length) }); res.end(big); });
  const got = await scriptedStore(t, bigServer.endpoint, 'lean').get('big');
  assert.ok(got?.body.equals(big));
  assert.equal(got?.size, big.length);
});

interface Outcome { value?: unknown; error?: { code: unknown; message: string }; stats: Array<[string, string]> }

/** The stats lines, average times aside (they measure the two runs, not what was counted). */
function untimed(store: Scripted): Array<[string, string]> {
  return [...store.stats.lines(), ...store.retries.lines()].map(([name, value]) => [name, /^http_avg_/.test(name) ? 'timed' : value]);
}

async function outcome(store: Scripted, run: (store: Scripted) => Promise<unknown>): Promise<Outcome> {
  try {
    const value = await run(store);
    return { value, stats: untimed(store) };
  } catch (error) {
    const e = error as Error & { code?: unknown };
    // How long the retries took differs from run to run; what was said does not.
    return { error: { code: e.code ?? e.name, message: e.message.replace(/^(gave up after \d+ attempts in )[\d.]+ s/, '$1T s') }, stats: untimed(store) };
  }
}

test('lean path: every failure classifies, counts, retries and reads as through the SDK', { timeout: 30_000 }, async (t) => {
  const bodyReply = (status: number, contentType: string, body: string): Reply => (req, res) => {
    res.writeHead(status, { 'content-type': contentType, ...(status === 200 ? { etag: ETAG } : {}) });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  const cases: Array<[string, Reply, boolean]> = [
    // name, reply, messages identical (else only code, kind and stats)
    ['403 AccessDenied', xmlError(403, 'AccessDenied'), true],
    ['403 no body', bodyReply(403, 'application/xml', ''), true],
    ['404 NoSuchKey', xmlError(404, 'NoSuchKey'), true],
    ['404 NoSuchBucket', xmlError(404, 'NoSuchBucket'), true],
    ['404 no body', bodyReply(404, 'application/xml', ''), true],
    ['500 HTML from a proxy', bodyReply(500, 'text/html', '<html><body>oops</body></html>'), true],
    ['503 SlowDown without message', bodyReply(503, 'application/xml', '<Error><Code>SlowDown</Code></Error>'), true],
    ['400 RequestTimeout', xmlError(400, 'RequestTimeout'), true],
    ['400 InvalidArgument', xmlError(400, 'InvalidArgument'), true],
    ['301 PermanentRedirect', xmlError(301, 'PermanentRedirect'), true],
    ['307 TemporaryRedirect', xmlError(307, 'TemporaryRedirect'), true],
    ['412 PreconditionFailed', xmlError(412, 'PreconditionFailed'), true],
    ['429 no body', bodyReply(429, 'text/plain', ''), true],
    // The SDK fails to parse a non-XML body ("@aws-sdk XML parse error: ..."); the lean path says
    // nothing more than the status. Same kind, code, retries and stats.
    ['409 plain text', bodyReply(409, 'text/plain', 'conflict, as plain text'), false],
    ['200 without ETag', bodyReply(200, 'application/octet-stream', ''), true],
  ];
  const operations: Array<[string, (store: Scripted) => Promise<unknown>]> = [
    ['get', (store) => store.get('vol/0000002a')],
    ['head', (store) => store.head('vol/0000002a')],
    ['put', (store) => store.put('vol/0000002a', Buffer.from('data'))],
    ['conditional put', (store) => store.put('vol/s3backer-mounted', Buffer.from('token'), { ifNoneMatch: '*' })],
    ['delete', (store) => store.delete('vol/0000002a')],
  ];
  for (const [name, reply, sameMessages] of cases) {
    const server = await scriptedServer(t, reply);
    for (const [operation, run] of operations) {
      const results: Outcome[] = [];
      const sleeps: number[][] = [];
      for (const objectPath of PATHS) {
        const pauses: number[] = [];
        const store = scriptedStore(t, server.endpoint, objectPath, {}, pauses);
        store.stats.setBlockKeyClassifier((key) => /^vol\/[0-9a-f]{8}$/.test(key));
        results.push(await outcome(store, run));
        sleeps.push(pauses);
      }
      const [sdk, lean] = results as [Outcome, Outcome];
      const what = `${name}: ${operation}`;
      assert.deepEqual(lean.stats, sdk.stats, `${what}: stats`);
      assert.deepEqual(sleeps[1], sleeps[0], `${what}: retry pauses`);
      assert.deepEqual(lean.value, sdk.value, `${what}: value`);
      assert.equal(lean.error?.code, sdk.error?.code, `${what}: error code (${lean.error?.message} / ${sdk.error?.message})`);
      if (sameMessages) assert.equal(lean.error?.message, sdk.error?.message, `${what}: message`);
    }
  }
});

test('lean path: a connection refused is retried and ends as S3B_BACKEND_UNREACHABLE, as through the SDK', { timeout: 30_000 }, async (t) => {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  const results: Outcome[] = [];
  for (const objectPath of PATHS) {
    results.push(await outcome(scriptedStore(t, `http://127.0.0.1:${port}/`, objectPath), (store) => store.get('k')));
  }
  assert.equal(results[1]!.error?.code, 'S3B_BACKEND_UNREACHABLE');
  assert.deepEqual(results[1], results[0]);
});

// --- what the SDK did for us: clock skew, timeouts, broken connections ------------------------------

test('clock skew: RequestTimeTooSkewed corrects the signing clock from the server\'s time and retries (both paths)', { timeout: 30_000 }, async (t) => {
  const SKEW = 3_600_000;
  for (const objectPath of PATHS) {
    // The server's clock is an hour ahead; it refuses requests signed more than 15 minutes off.
    const server = await scriptedServer(t, (req, res) => {
      const serverNow = Date.now() + SKEW;
      const amzDate = String(req.headers['x-amz-date']);
      const signed = Date.parse(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
      const date = new Date(serverNow).toUTCString();
      if (Math.abs(signed - serverNow) > 900_000) {
        res.writeHead(403, { 'content-type': 'application/xml', date });
        res.end(`<Error><Code>RequestTimeTooSkewed</Code><Message>The difference between the request time and the current time is too large.</Message><ServerTime>${new Date(serverNow).toISOString()}</ServerTime></Error>`);
      } else {
        res.writeHead(200, { etag: ETAG, 'content-length': '0', date });
        res.end();
      }
    });
    const sleeps: number[] = [];
    const store = scriptedStore(t, server.endpoint, objectPath, {}, sleeps);
    assert.deepEqual(await store.put('k', Buffer.from('x')), { etag: ETAG }, objectPath);
    assert.equal(server.seen.length, 2, `${objectPath}: one refused attempt, one retry`);
    assert.deepEqual(sleeps, [10]);
    const stats = allStats(store);
    assert.equal(stats.http_forbidden, '1');
    assert.equal(stats.http_num_retries, '1');
    assert.equal(stats.http_puts, '1');
    // The next request is signed with the corrected clock straight away.
    await store.put('k2', Buffer.from('y'));
    assert.equal(server.seen.length, 3, `${objectPath}: no second refusal`);
  }
});

test('clock skew: a refusal that does not move the clock is not retried (no loop), S3B_BACKEND_AUTH', { timeout: 30_000 }, async (t) => {
  const server = await scriptedServer(t, (_req, res) => {
    res.writeHead(403, { 'content-type': 'application/xml', date: new Date().toUTCString() });
    res.end('<Error><Code>RequestTimeTooSkewed</Code><Message>skewed</Message></Error>');
  });
  const sleeps: number[] = [];
  const store = scriptedStore(t, server.endpoint, 'lean', {}, sleeps);
  await assert.rejects(store.get('k'), (error: unknown) => isS3BackerError(error, 'S3B_BACKEND_AUTH') && /RequestTimeTooSkewed/.test(error.message));
  assert.deepEqual(sleeps, []);
  assert.equal(server.seen.length, 1);
});

test('timeout: a body that stalls after the headers times out, is retried, then S3B_BACKEND_UNREACHABLE within --timeout + --maxRetryPause (both paths)', { timeout: 30_000 }, async (t) => {
  for (const objectPath of PATHS) {
    const server = await scriptedServer(t, (_req, res) => {
      res.writeHead(200, { etag: ETAG, 'content-length': '65536' });
      res.write(Buffer.alloc(1000, 1));
      // ... and nothing more, ever.
    });
    const sleeps: number[] = [];
    const store = scriptedStore(t, server.endpoint, objectPath, { timeoutMs: 200, retry: { initialPauseMs: 10, maxTotalPauseMs: 300 } }, sleeps);
    const started = Date.now();
    await assert.rejects(store.get('vol/00000001'), (error: unknown) =>
      isS3BackerError(error, 'S3B_BACKEND_UNREACHABLE') && /GET vol\/00000001/.test(error.message), objectPath);
    // Whole 200 ms attempts while they fit, the last one cut to what is left of 200 + 300 ms.
    assert.ok(sleeps.length >= 1 && server.seen.length >= 2, `${objectPath}: retried (${sleeps} / ${server.seen.length})`);
    assert.ok(Date.now() - started < 1500, `${objectPath}: ${Date.now() - started} ms`);
    assert.equal(allStats(store).http_gets, '0');
  }
});

test('timeout: a server that never answers times out within --timeout, connection included; one attempt, counted in curl_timeouts', { timeout: 30_000 }, async (t) => {
  const server = await scriptedServer(t, () => { /* never answers */ });
  // The s3 store alone: one call is one attempt, bounded by its own --timeout.
  const { s3 } = scriptedStore(t, server.endpoint, 'lean', { timeoutMs: 150 });
  const started = Date.now();
  await assert.rejects(s3.put('k', Buffer.from('x')), (error: unknown) =>
    isS3BackerError(error, 'S3B_BACKEND_UNREACHABLE') && error.retryable && /ETIMEDOUT/.test(error.message));
  assert.ok(Date.now() - started < 1500);
  assert.equal(server.seen.length, 1);
  assert.equal(Object.fromEntries(s3.stats.lines()).curl_timeouts, '1');
});

test('a connection reset in the middle of a body is retried and the retry\'s body is returned whole', { timeout: 30_000 }, async (t) => {
  const body = Buffer.alloc(65536, 5);
  const server = await scriptedServer(t, [
    (_req, res) => {
      res.writeHead(200, { etag: ETAG, 'content-length': String(body.length) });
      res.write(body.subarray(0, 1000), () => res.socket?.destroy());
    },
    (_req, res) => {
      res.writeHead(200, { etag: ETAG, 'content-length': String(body.length) });
      res.end(body);
    },
  ]);
  const sleeps: number[] = [];
  const store = scriptedStore(t, server.endpoint, 'lean', {}, sleeps);
  const got = await store.get('k');
  assert.ok(got?.body.equals(body));
  assert.deepEqual(sleeps, [10]);
  const stats = allStats(store);
  assert.equal(stats.http_gets, '1');
  assert.equal(stats.http_num_retries, '1');
  assert.equal(stats.curl_other_error, '1', 'a connection broken mid-answer');
});

test('keep-alive: many requests reuse the agent\'s connections and leave no listeners behind', { timeout: 30_000 }, async (t) => {
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);
  process.on('warning', onWarning);
  t.after(async () => { process.off('warning', onWarning); });
  const server = await scriptedServer(t, ok);
  const store = scriptedStore(t, server.endpoint, 'lean', { timeoutMs: 1000 });
  for (let round = 0; round < 40; round++) {
    await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? store.put(`k${i}`, Buffer.from('x')) : store.get(`k${i}`))));
  }
  assert.equal(server.seen.length, 320);
  assert.ok(server.connections() <= 8, `${server.connections()} connections for 320 requests`);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(warnings.map((warning) => warning.message), []);
});
