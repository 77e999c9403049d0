import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { InstrumentedStore } from '../helpers/instrumented-store.js';
import { serveVolume } from '../helpers/nbd-served-volume.js';
import { CMD, CMD_FLAG, FLAG, INFO, NBD_ERR, OPT, RawNbdClient, REP, REPLY_TYPE } from '../helpers/nbd-raw-client.js';
import { S3BackerError } from '../../src/errors/s3backer-error.js';

const BLOCK = 64 << 10;
const key = (block: number) => block.toString(16).padStart(8, '0');

test('NBD_OPT_INFO: the export\'s size and flags and its block sizes always; its name and description when asked; then GO with the same answer', { timeout: 20_000 }, async () => {
  const volume = await serveVolume({ frontend: { exportDescription: 'volume of the test', maxRequestBytes: 1 << 20 } });
  const client = await RawNbdClient.connect(volume.connectTo);
  try {
    await client.greet();
    client.sendClientFlags(3);
    const plain = await client.info(OPT.INFO, '', []);
    assert.equal(plain.final.type, REP.ACK);
    assert.deepEqual([...plain.infos.keys()].sort(), [INFO.EXPORT, INFO.BLOCK_SIZE]);
    const asked = await client.info(OPT.INFO, 'test-volume', [INFO.NAME, INFO.DESCRIPTION, INFO.BLOCK_SIZE]);
    assert.equal(asked.final.type, REP.ACK);
    assert.equal(asked.infos.get(INFO.NAME)?.toString(), 'test-volume');
    assert.equal(asked.infos.get(INFO.DESCRIPTION)?.toString(), 'volume of the test');
    const sizes = asked.infos.get(INFO.BLOCK_SIZE)!;
    assert.deepEqual([sizes.readUInt32BE(0), sizes.readUInt32BE(4), sizes.readUInt32BE(8)], [1, BLOCK, 1 << 20]);
    const exported = asked.infos.get(INFO.EXPORT)!;
    assert.equal(exported.readBigUInt64BE(0), BigInt(64 << 20));
    const flags = exported.readUInt16BE(8);
    for (const flag of [FLAG.HAS_FLAGS, FLAG.SEND_FLUSH, FLAG.SEND_FUA, FLAG.SEND_TRIM, FLAG.SEND_WRITE_ZEROES, FLAG.CAN_MULTI_CONN]) assert.ok(flags & flag, `flag ${flag}`);
    assert.equal(flags & (FLAG.READ_ONLY | FLAG.SEND_DF), 0, 'read-write, and no DF without structured replies');
    const go = await client.go('test-volume');
    assert.equal(go.flags, flags);
    await client.disconnect();
  } finally {
    client.destroy();
    await volume.stop();
  }
});

test('structured replies: a read is one OFFSET_DATA chunk flagged DONE, an error is an ERROR chunk with a message, an empty read is NONE', { timeout: 20_000 }, async () => {
  const volume = await serveVolume({});
  const { client, flags } = await RawNbdClient.open(volume.connectTo, { structured: true });
  try {
    assert.ok(flags & FLAG.SEND_DF, 'DF is offered once structured replies are negotiated');
    const data = randomBytes(3 * BLOCK);
    await volume.device.write(BLOCK / 2, data);

    let cookie = client.request(CMD.READ, BLOCK / 2, data.length, { flags: CMD_FLAG.DF });
    let reply = await client.readReply();
    assert.equal(reply.cookie, cookie);
    assert.deepEqual(reply.chunkTypes, [REPLY_TYPE.OFFSET_DATA]);
    assert.ok(reply.data?.equals(data));

    cookie = client.request(CMD.READ, (64 << 20) - 10, 20);
    reply = await client.readReply();
    assert.equal(reply.cookie, cookie);
    assert.deepEqual(reply.chunkTypes, [REPLY_TYPE.ERROR]);
    assert.equal(reply.error, NBD_ERR.EINVAL);
    assert.match(reply.message!, /ends past the end of the 67108864-byte export/);

    client.request(CMD.READ, 0, 0);
    reply = await client.readReply();
    assert.deepEqual(reply.chunkTypes, [REPLY_TYPE.NONE]);
    assert.equal(reply.error, 0);

    // Commands without data are answered with simple replies (allowed with structured replies).
    client.request(CMD.FLUSH, 0, 0);
    reply = await client.readReply();
    assert.equal(reply.chunkTypes, undefined);
    assert.equal(reply.error, 0);
    await client.disconnect();
  } finally {
    client.destroy();
    await volume.stop();
  }
});

test('read-only export: WRITE, TRIM and WRITE_ZEROES fail with EPERM (simple and structured), reads and flushes work', { timeout: 20_000 }, async () => {
  const volume = await serveVolume({ frontend: { readOnly: true } });
  const { client: simple, flags } = await RawNbdClient.open(volume.connectTo);
  const { client: structured } = await RawNbdClient.open(volume.connectTo, { structured: true });
  try {
    assert.ok(flags & FLAG.READ_ONLY);
    for (const client of [simple, structured]) {
      client.request(CMD.WRITE, 0, 512, { data: Buffer.alloc(512, 1) });
      client.request(CMD.TRIM, 0, BLOCK);
      client.request(CMD.WRITE_ZEROES, 0, BLOCK, { flags: CMD_FLAG.NO_HOLE });
      for (let i = 0; i < 3; i++) assert.equal((await client.readReply()).error, NBD_ERR.EPERM);
      client.request(CMD.READ, 0, 512);
      const read = await client.readReply();
      assert.equal(read.error, 0);
      assert.ok(read.data?.equals(Buffer.alloc(512)));
      client.request(CMD.FLUSH, 0, 0);
      assert.equal((await client.readReply()).error, 0);
    }
    const reply = await (async () => { structured.request(CMD.WRITE, 0, 1, { data: Buffer.from([1]) }); return structured.readReply(); })();
    assert.match(reply.message!, /read-only/);
  } finally {
    simple.destroy();
    structured.destroy();
    await volume.stop();
  }
});

test('a failing store: the request gets EIO (an ERROR_OFFSET chunk at the failing block, with the store\'s message), the connection carries on', { timeout: 20_000 }, async () => {
  const store = new InstrumentedStore();
  // No cache: reads reach the store.
  const volume = await serveVolume({ store: () => store, config: { blockCacheSize: 0 } });
  const { client } = await RawNbdClient.open(volume.connectTo, { structured: true });
  try {
    await volume.device.write(3 * BLOCK, randomBytes(BLOCK));
    store.failWith = (op, name) => (op === 'get' && name === key(3) ? new S3BackerError('S3B_BACKEND_IO', 'the test store refuses it', { block: 3 }) : undefined);
    // A read of blocks 2 (never written: known zeros) and 3: the failure is at block 3's first byte.
    client.request(CMD.READ, 2 * BLOCK + 100, BLOCK);
    let reply = await client.readReply();
    assert.deepEqual(reply.chunkTypes, [REPLY_TYPE.ERROR_OFFSET]);
    assert.equal(reply.error, NBD_ERR.EIO);
    assert.equal(reply.errorOffset, BigInt(3 * BLOCK));
    assert.match(reply.message!, /block 00000003: the test store refuses it/);
    // A read starting inside block 3: the failure is at the request's own offset.
    client.request(CMD.READ, 3 * BLOCK + 50, 100);
    reply = await client.readReply();
    assert.equal(reply.errorOffset, BigInt(3 * BLOCK + 50));
    store.failWith = () => undefined;
    client.request(CMD.READ, 3 * BLOCK, 100);
    assert.equal((await client.readReply()).error, 0);
  } finally {
    client.destroy();
    await volume.stop();
  }
  assert.ok(volume.logLines.some((line) => /^ERROR \[nbd\] .*READ of 100 bytes at offset 196658 failed: block 00000003: the test store refuses it/.test(line)));
});

test('concurrent requests: a slow read is overtaken by a fast one, replies are matched by cookie; a connection holds at most maxInFlightRequests', { timeout: 20_000 }, async () => {
  const store = new InstrumentedStore();
  const volume = await serveVolume({ store: () => store, config: { blockCacheSize: 0 }, frontend: { maxInFlightRequests: 4 } });
  const { client } = await RawNbdClient.open(volume.connectTo, { structured: true });
  try {
    const blocks = Array.from({ length: 12 }, () => randomBytes(BLOCK));
    for (const [block, data] of blocks.entries()) await volume.device.write(block * BLOCK, data);

    // Block 0's download is held: the read of block 5, sent after it, is answered first.
    store.hold = (op, name) => op === 'get' && name === key(0);
    const slow = client.request(CMD.READ, 0, BLOCK, { cookie: 0xaaaan });
    const fast = client.request(CMD.READ, 5 * BLOCK, BLOCK, { cookie: 0xbbbbn });
    await store.waitForHeld(1);
    let reply = await client.readReply();
    assert.equal(reply.cookie, fast, 'the later, fast read is answered first');
    assert.ok(reply.data?.equals(blocks[5]!));
    store.releaseAll();
    reply = await client.readReply();
    assert.equal(reply.cookie, slow);
    assert.ok(reply.data?.equals(blocks[0]!));

    // Backpressure: with every download held, the server takes 4 requests and reads no further.
    store.hold = (op) => op === 'get';
    const cookies = blocks.map((_, block) => client.request(CMD.READ, block * BLOCK, BLOCK));
    await store.waitForHeld(4);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(store.held.length, 4, 'only maxInFlightRequests requests are being served');
    store.hold = () => false;
    store.releaseAll();
    const answered = new Map<bigint, Buffer | undefined>();
    for (let i = 0; i < cookies.length; i++) {
      const next = await client.readReply();
      answered.set(next.cookie, next.data);
    }
    cookies.forEach((cookie, block) => assert.ok(answered.get(cookie)?.equals(blocks[block]!), `block ${block} answered to its cookie`));
    await client.disconnect();
  } finally {
    store.releaseAll();
    client.destroy();
    await volume.stop();
  }
});
