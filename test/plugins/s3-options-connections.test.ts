// --noCurlCache, --http11 and --ipTOS, seen from the server side: a recording proxy in front of
// s3rver counts the client's TCP connections and notes each request's HTTP version.
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { Engine } from '../../src/engine/engine.js';
import type { OptionValues } from '../../src/config/options.js';
import type { LogLevel } from '../../src/engine/logger.js';
import { s3Plugin } from '../../plugins/s3/index.js';
import { canSetTypeOfService, parseIpTos } from '../../plugins/s3/ip-tos.js';
import { startS3rver, type S3rverServer } from '../helpers/s3rver-server.js';
import { startRecordingProxy, type RecordingProxy } from '../helpers/recording-proxy.js';
import { testConfig } from '../helpers/test-config.js';

const TIMEOUT = { timeout: 60_000 };
const BLOCKS = 6;

let s3rver: S3rverServer;
let buckets = 0;
before(async () => { s3rver = await startS3rver(); });
after(async () => { await s3rver?.stop(); });

interface Run { proxy: RecordingProxy; log: Array<{ level: LogLevel; message: string }> }

/** Mount through a fresh proxy, write and read BLOCKS blocks one after the other, unmount. */
async function run(options: Partial<OptionValues>, objectPath: 'lean' | 'sdk' = 'lean'): Promise<Run> {
  const bucket = `connections-${++buckets}`;
  await s3rver.createBucket(bucket);
  const proxy = await startRecordingProxy({ target: s3rver.endpoint });
  const log: Run['log'] = [];
  try {
    const config = testConfig({
      store: 's3', bucket, baseURL: proxy.endpoint, accessId: s3rver.accessId, accessKey: s3rver.accessKey,
      size: 16 * 4096, blockSize: 4096, initialRetryPause: 10, maxRetryPause: 100, ...options,
    });
    const engine = Engine.create(config, [s3Plugin({ conditionalPut: false, objectPath })], { log: (level, _source, message) => log.push({ level, message }) });
    const device = await engine.mount();
    try {
      for (let block = 0; block < BLOCKS; block++) {
        await device.write(block * 4096, Buffer.alloc(4096, block + 1));
        await device.flush();
        assert.ok((await device.read(block * 4096, 4096)).equals(Buffer.alloc(4096, block + 1)));
      }
    } finally {
      await engine.shutdown();
    }
    return { proxy, log };
  } finally {
    await proxy.close();
  }
}

for (const objectPath of ['lean', 'sdk'] as const) {
  test(`--noCurlCache: every request opens a connection of its own (${objectPath} path)`, TIMEOUT, async () => {
    const { proxy } = await run({ noCurlCache: true }, objectPath);
    const requests = proxy.requests;
    assert.ok(requests.length > 2 * BLOCKS, `${requests.length} requests`);
    assert.equal(proxy.connections(), requests.length, 'one connection per request');
    assert.equal(new Set(requests.map((request) => request.connection)).size, requests.length, 'no connection carried two requests');
  });
}

test('without --noCurlCache, sequential requests reuse one kept-alive connection', TIMEOUT, async () => {
  const { proxy } = await run({});
  assert.ok(proxy.requests.length > 2 * BLOCKS);
  assert.ok(proxy.connections() <= 2, `${proxy.connections()} connections for ${proxy.requests.length} sequential requests`);
});

test('--http11: accepted; every request is HTTP/1.1, with or without it', TIMEOUT, async () => {
  for (const http11 of [true, false]) {
    const { proxy, log } = await run({ http11 });
    assert.ok(proxy.requests.every((request) => request.httpVersion === '1.1'), proxy.requests.map((request) => request.httpVersion).join(' '));
    assert.deepEqual(log.filter((entry) => entry.level === 'warn'), []);
  }
});

test('parseIpTos: the C tool\'s names and strtol base-0 numbers', () => {
  assert.equal(parseIpTos('lowdelay'), 0x10);
  assert.equal(parseIpTos('THROUGHPUT'), 0x08);
  assert.equal(parseIpTos('reliability'), 0x04);
  assert.equal(parseIpTos('mincost'), 0x02);
  assert.equal(parseIpTos('lowcost'), 0x02);
  assert.equal(parseIpTos('0x2e'), 0x2e);
  assert.equal(parseIpTos('0270'), 0o270);
  assert.equal(parseIpTos('184'), 184);
  assert.equal(parseIpTos('0'), 0);
  assert.throws(() => parseIpTos('256'), RangeError);
});

test('--ipTOS: applied to every connection where Node can set it; otherwise one warning at mount, never silence', TIMEOUT, async (t) => {
  // Every client socket of the process, with its TOS once connected (read then: a closed socket has
  // none). This listener is registered when the socket is created, before the store's own 'connect'
  // listener that sets the byte, so it reads on the next turn, as a request's first write comes.
  const connected: Array<{ port: number | undefined; tos: number | undefined }> = [];
  const onSocket = (message: unknown): void => {
    const socket = (message as { socket: Socket & { getTypeOfService?: () => number } }).socket;
    socket.once('connect', () => setImmediate(() => connected.push({ port: socket.remotePort, tos: socket.getTypeOfService?.() })));
  };
  subscribe('net.client.socket', onSocket);
  let result: Run;
  try {
    result = await run({ ipTOS: 'lowdelay', noCurlCache: true });
  } finally {
    unsubscribe('net.client.socket', onSocket);
  }
  const warnings = result.log.filter((entry) => entry.level === 'warn' && entry.message.includes('--ipTOS'));
  if (canSetTypeOfService()) {
    assert.deepEqual(warnings, []);
    const ours = connected.filter((socket) => socket.port === result.proxy.port);
    assert.equal(ours.length, result.proxy.connections());
    for (const socket of ours) assert.equal(socket.tos, 0x10);
  } else {
    // Node 20: accepted, said once (not once per connection), and the mount works.
    assert.equal(warnings.length, 1, JSON.stringify(result.log));
    assert.match(warnings[0]!.message, /--ipTOS=lowdelay is accepted but not applied: Node \d+\.\d+\.\d+ cannot set the IP type-of-service byte/);
    assert.ok(result.proxy.connections() > 2 * BLOCKS, 'many connections, one warning');
    t.diagnostic(`Node ${process.versions.node} has no net.Socket#setTypeOfService: only the warning is checked here`);
  }
});
