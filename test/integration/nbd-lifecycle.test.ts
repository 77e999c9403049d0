import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isS3BackerError } from '../../src/errors/s3backer-error.js';
import { createLogger } from '../../src/engine/logger.js';
import { NbdFrontend } from '../../src/frontends/nbd/nbd-frontend.js';
import { InstrumentedStore } from '../helpers/instrumented-store.js';
import { serveVolume } from '../helpers/nbd-served-volume.js';
import { CMD, RawNbdClient } from '../helpers/nbd-raw-client.js';
import { runCommand } from '../helpers/run-command.js';
import { missingToolsReason } from '../helpers/nbd-tools.js';

const BLOCK = 64 << 10;

/** Whether `promise` has settled after `ms`. */
async function settledWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let settled = false;
  void promise.then(() => { settled = true; }, () => { settled = true; });
  await new Promise((resolve) => setTimeout(resolve, ms));
  return settled;
}

test('requestStop: no new connections, the request in flight completes and is answered, then the connection closes and `closed` settles', { timeout: 20_000 }, async () => {
  const store = new InstrumentedStore();
  const volume = await serveVolume({ store: () => store, config: { blockCacheSize: 0 } });
  const { client } = await RawNbdClient.open(volume.connectTo);
  const idle = await RawNbdClient.connect(volume.connectTo);
  try {
    const data = randomBytes(BLOCK);
    await volume.device.write(7 * BLOCK, data);
    store.hold = (op) => op === 'get';
    const cookie = client.request(CMD.READ, 7 * BLOCK, BLOCK);
    await store.waitForHeld(1);

    assert.deepEqual(await volume.frontend.requestStop('SIGTERM'), { outcome: 'stopping' });
    // The listener is gone at once: its socket file too, so nobody can connect.
    await assert.rejects(RawNbdClient.connect(volume.connectTo));
    // A client idling in the handshake is dropped; the one with a request in flight is not.
    assert.equal(await idle.closesWithin(2000), true, 'a connection still in the handshake is closed');
    assert.equal(await settledWithin(volume.frontend.closed, 300), false, '`closed` waits for the request in flight');

    store.releaseAll();
    const reply = await client.readReply();
    assert.equal(reply.cookie, cookie);
    assert.ok(reply.data?.equals(data), 'the request in flight is answered before the close');
    assert.equal(await client.closesWithin(), true, 'then the server closes the connection');
    await volume.frontend.closed;
    assert.equal(existsSync(volume.socketPath!), false, 'the socket file is removed');
    assert.ok(volume.logLines.some((line) => /INFO \[nbd\] SIGTERM: stopping the NBD server; its client connection finishes its requests first/.test(line)));
  } finally {
    store.releaseAll();
    client.destroy();
    idle.destroy();
    await volume.stop();
  }
});

test('a client that does not complete the handshake in time is dropped; one that did is not', { timeout: 20_000 }, async () => {
  const volume = await serveVolume({ frontend: { handshakeTimeoutMs: 300 } });
  const { client: negotiated } = await RawNbdClient.open(volume.connectTo);
  const dawdler = await RawNbdClient.connect(volume.connectTo);
  try {
    await dawdler.greet();
    dawdler.sendClientFlags(3);
    assert.equal(await dawdler.closesWithin(3000), true, 'the dawdler is dropped');
    await new Promise((resolve) => setTimeout(resolve, 300));
    negotiated.request(CMD.READ, 0, 512);
    assert.equal((await negotiated.readReply()).error, 0, 'a connection in transmission has no time limit');
  } finally {
    negotiated.destroy();
    dawdler.destroy();
    await volume.stop();
  }
  assert.ok(volume.logLines.some((line) => /WARN .*did not complete the handshake within 0.3 s/.test(line)));
});

test('NBD_CMD_DISC: requests sent before it are completed and answered (also to a client that half-closed), then the server closes', { timeout: 20_000 }, async () => {
  const volume = await serveVolume({});
  const { client } = await RawNbdClient.open(volume.connectTo);
  try {
    const data = randomBytes(3 * BLOCK + 17);
    const cookie = client.request(CMD.WRITE, 1234, data.length, { data });
    client.request(CMD.DISC, 0, 0);
    const reply = await client.readReply();
    assert.equal(reply.cookie, cookie);
    assert.equal(reply.error, 0);
    assert.equal(await client.closesWithin(), true);
    assert.ok((await volume.device.read(1234, data.length)).equals(data));

    // A client that shuts down its sending side right after DISC still gets the replies in flight.
    const { client: halfClosing } = await RawNbdClient.open(volume.connectTo);
    const read = halfClosing.request(CMD.READ, 1234, data.length);
    halfClosing.request(CMD.DISC, 0, 0);
    halfClosing.socket.end();
    const answer = await halfClosing.readReply();
    assert.equal(answer.cookie, read);
    assert.ok(answer.data?.equals(data));
    assert.equal(await halfClosing.closesWithin(), true);
  } finally {
    client.destroy();
    await volume.stop();
  }
});

test('once: the server ends by itself when the client that completed the handshake disconnects, not for one that never did', { timeout: 20_000 }, async () => {
  const volume = await serveVolume({ frontend: { once: true } });
  try {
    const stranger = await RawNbdClient.connect(volume.connectTo);
    await stranger.greet();
    stranger.destroy();
    await stranger.closed;
    assert.equal(await settledWithin(volume.frontend.closed, 200), false, 'a client that never finished the handshake does not end it');

    const first = await RawNbdClient.open(volume.connectTo);
    const second = await RawNbdClient.open(volume.connectTo);
    await first.client.disconnect();
    assert.equal(await settledWithin(volume.frontend.closed, 200), false, 'another connection is still open');
    second.client.request(CMD.READ, 0, 512);
    assert.equal((await second.client.readReply()).error, 0, 'and still served');
    second.client.destroy();
    await volume.frontend.closed;
    assert.equal(existsSync(volume.socketPath!), false);
  } finally {
    await volume.stop();
  }
});

test('once with nbdinfo: its disconnect ends the server', { timeout: 20_000 }, async (t) => {
  const missing = missingToolsReason(['nbdinfo']);
  if (missing) {
    console.log(`skipping: ${missing}`);
    t.skip(missing);
    return;
  }
  const volume = await serveVolume({ frontend: { once: true } });
  try {
    assert.equal((await runCommand('nbdinfo', ['--size', volume.uri], { timeoutMs: 10_000 })).stdout.trim(), String(64 << 20));
    await volume.frontend.closed;
  } finally {
    await volume.stop();
  }
});

test('the Unix socket path: a stale socket is replaced; a live one, or a file that is not a socket, is refused and left alone', { timeout: 20_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 's3b-nbd-sock-'));
  const log = createLogger(() => {}, 'nbd');
  const device = { size: 1 << 20, readOnly: false, geometry: { blockSize: 4096 } } as unknown as Parameters<NbdFrontend['start']>[0];
  let live: Server | undefined;
  try {
    // A server killed without cleaning up leaves its socket file behind.
    const stale = join(dir, 'stale.sock');
    spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(stale)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    assert.equal(existsSync(stale), true, 'the dead server left its socket');
    const frontend = new NbdFrontend({ listen: `unix:${stale}`, exportName: 'x', log });
    await frontend.start(device);
    const client = await RawNbdClient.connect({ path: stale });
    await client.greet();
    client.destroy();
    await frontend.requestStop('test');
    await frontend.closed;
    assert.equal(existsSync(stale), false);

    const busy = join(dir, 'busy.sock');
    const other = createServer();
    live = other;
    await new Promise<void>((resolve) => other.listen(busy, resolve));
    await assert.rejects(new NbdFrontend({ listen: `unix:${busy}`, exportName: 'x', log }).start(device),
      (error) => isS3BackerError(error, 'S3B_CONFIG_INVALID') && /another server is listening/.test((error as Error).message));
    assert.equal(existsSync(busy), true, 'the live socket is left alone');

    const file = join(dir, 'precious.txt');
    await writeFile(file, 'keep me');
    await assert.rejects(new NbdFrontend({ listen: `unix:${file}`, exportName: 'x', log }).start(device),
      (error) => isS3BackerError(error, 'S3B_CONFIG_INVALID') && /is not a socket/.test((error as Error).message));
    assert.equal(await readFile(file, 'utf8'), 'keep me');

    // A TCP port in use.
    other.close();
    const tcp = createServer();
    live = tcp;
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    const { port } = tcp.address() as AddressInfo;
    const taken = new NbdFrontend({ listen: `127.0.0.1:${port}`, exportName: 'x', log });
    await assert.rejects(taken.start(device), (error) => isS3BackerError(error, 'S3B_CONFIG_INVALID') && /in use/.test((error as Error).message));
    await taken.closed;
  } finally {
    live?.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('requestStop while start() is still under way, or before it: `closed` settles and nothing is left listening', { timeout: 10_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 's3b-nbd-early-'));
  const log = createLogger(() => {}, 'nbd');
  const device = { size: 1 << 20, readOnly: false, geometry: { blockSize: 4096 } } as unknown as Parameters<NbdFrontend['start']>[0];
  try {
    const path = join(dir, 'early.sock');
    const frontend = new NbdFrontend({ listen: `unix:${path}`, exportName: 'x', log });
    const starting = frontend.start(device);
    assert.deepEqual(await frontend.requestStop('SIGINT'), { outcome: 'stopping' });
    await starting;
    await frontend.closed;
    assert.equal(existsSync(path), false, 'no socket is left behind');
    await assert.rejects(RawNbdClient.connect({ path }));

    const never = new NbdFrontend({ listen: `unix:${path}`, exportName: 'x', log });
    await never.requestStop('SIGINT');
    await never.closed;
    await assert.rejects(never.start(device), (error) => isS3BackerError(error, 'S3B_ENGINE_STATE'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
