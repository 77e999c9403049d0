import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { serveVolume, type ServedVolume } from '../helpers/nbd-served-volume.js';
import { CMD, CMD_FLAG, NBD_ERR, OPT, RawNbdClient, REP } from '../helpers/nbd-raw-client.js';

const SIZE = 64 << 20;
const MAX_REQUEST = 1 << 20;
/** Where refused and cut-off writes aim: nothing else writes there (the bystander writes near the start). */
const UNTOUCHED = 40 << 20;

/**
 * A well-behaved client connected for the whole test: after every abuse by another client it
 * still writes and reads back, on the same connection, so one bad client never disturbed it.
 */
async function bystander(volume: ServedVolume) {
  const { client } = await RawNbdClient.open(volume.connectTo);
  let round = 0;
  return {
    client,
    async stillWorks(): Promise<void> {
      const data = randomBytes(4096 + round);
      const offset = 1000 + 70_000 * round++;
      client.request(CMD.WRITE, offset, data.length, { data });
      assert.equal((await client.readReply()).error, 0, 'the bystander\'s write succeeds');
      const cookie = client.request(CMD.READ, offset, data.length);
      const reply = await client.readReply();
      assert.equal(reply.cookie, cookie);
      assert.ok(reply.data?.equals(data), 'the bystander reads back what it wrote');
    },
  };
}

async function handshaken(volume: ServedVolume): Promise<RawNbdClient> {
  return (await RawNbdClient.open(volume.connectTo)).client;
}

test('malformed handshakes: each gets the protocol\'s reply or a clean close; the server and a connected client carry on', { timeout: 30_000 }, async () => {
  const volume = await serveVolume({ frontend: { maxRequestBytes: MAX_REQUEST } });
  const other = await bystander(volume);
  const clients: RawNbdClient[] = [];
  const connect = async () => { const client = await RawNbdClient.connect(volume.connectTo); clients.push(client); await client.greet(); return client; };
  try {
    // Unknown client flags: the protocol says the server MUST drop the connection.
    let client = await connect();
    client.sendClientFlags(0x80);
    assert.equal(await client.closesWithin(), true, 'unknown client flags close the connection');
    await other.stillWorks();

    // Bad magic on an option: out of step, closed.
    client = await connect();
    client.sendClientFlags(3);
    client.sendOption(OPT.GO, RawNbdClient.infoRequest('', []), 0x1122334455667788n);
    assert.equal(await client.closesWithin(), true, 'bad option magic closes the connection');
    await other.stillWorks();

    // On one connection: an unknown option, a NBD_OPT_SET_META_CONTEXT (not offered), an option
    // with too much data, malformed GO data, NBD_OPT_LIST with data, STARTTLS without TLS: each
    // refused with the right error, and the handshake still completes.
    client = await connect();
    client.sendClientFlags(3);
    const refusals: Array<[number, Buffer, number]> = [
      [99, Buffer.from('whatever'), REP.ERR_UNSUP],
      [OPT.SET_META_CONTEXT, Buffer.alloc(8), REP.ERR_UNSUP],
      [OPT.INFO, Buffer.alloc(100 * 1024), REP.ERR_TOO_BIG],
      [OPT.GO, Buffer.from([0, 0, 0, 50, 0, 0]), REP.ERR_INVALID],
      [OPT.LIST, Buffer.from('x'), REP.ERR_INVALID],
      [OPT.STRUCTURED_REPLY, Buffer.from('x'), REP.ERR_INVALID],
      [OPT.STARTTLS, Buffer.alloc(0), REP.ERR_POLICY],
    ];
    for (const [option, data, expected] of refusals) {
      client.sendOption(option, data);
      const reply = await client.readOptionReply();
      assert.equal(reply.option, option);
      assert.equal(reply.type, expected, `option ${option} gets 0x${expected.toString(16)}, not 0x${reply.type.toString(16)}`);
      assert.ok(reply.data.length > 0, 'an error reply says why');
    }
    const { infos, final } = await client.info(OPT.INFO, 'no-such-export');
    assert.equal(final.type, REP.ERR_UNKNOWN);
    assert.equal(infos.size, 0);
    assert.equal((await client.go('')).size, BigInt(SIZE), 'the handshake completes after all that');
    client.destroy();

    // NBD_OPT_ABORT: acknowledged, then the connection ends.
    client = await connect();
    client.sendClientFlags(3);
    client.sendOption(OPT.ABORT);
    assert.equal((await client.readOptionReply()).type, REP.ACK);
    assert.equal(await client.closesWithin(), true);

    // NBD_OPT_EXPORT_NAME of another export cannot be answered with an error: the server closes.
    client = await connect();
    client.sendClientFlags(3);
    client.sendOption(OPT.EXPORT_NAME, Buffer.from('someone-else'));
    assert.equal(await client.closesWithin(), true);
    // ... and of ours answers with size and flags and no zero padding (NO_ZEROES was agreed).
    client = await connect();
    client.sendClientFlags(3);
    client.sendOption(OPT.EXPORT_NAME, Buffer.alloc(0));
    const exported = await client.read(10);
    assert.equal(exported.readBigUInt64BE(0), BigInt(SIZE));
    client.request(CMD.READ, 0, 16);
    assert.equal((await client.readReply()).error, 0, 'the next bytes are a reply, not padding');

    // Without NO_ZEROES, NBD_OPT_EXPORT_NAME's reply ends with 124 zero bytes.
    client = await connect();
    client.sendClientFlags(1);
    client.sendOption(OPT.EXPORT_NAME, Buffer.alloc(0));
    const padded = await client.read(10 + 124);
    assert.equal(padded.readBigUInt64BE(0), BigInt(SIZE));
    assert.ok(padded.subarray(10).equals(Buffer.alloc(124)));
    client.request(CMD.READ, 0, 16);
    assert.equal((await client.readReply()).error, 0);

    // A client that leaves halfway through an option.
    client = await connect();
    client.sendClientFlags(3);
    client.write(Buffer.from('IHAVEOPT\0\0'));
    client.destroy();
    await other.stillWorks();
  } finally {
    for (const client of clients) client.destroy();
    other.client.destroy();
    await volume.stop();
  }
  assert.ok(volume.logLines.some((line) => /WARN .*unknown client flags/.test(line)), 'the bad client flags were logged');
  assert.ok(volume.logLines.some((line) => /WARN .*bad magic/.test(line)), 'the bad option magic was logged');
});

test('malformed requests: past the end, oversized, unknown, bad flags, bad magic, abrupt close; errors per proto.md and the server carries on', { timeout: 30_000 }, async () => {
  // TCP, so that a client can reset its connection (ECONNRESET on the server's side).
  const volume = await serveVolume({ transport: 'tcp', frontend: { maxRequestBytes: MAX_REQUEST } });
  const other = await bystander(volume);
  const clients: RawNbdClient[] = [];
  const open = async () => { const client = await handshaken(volume); clients.push(client); return client; };
  const expectError = async (client: RawNbdClient, cookie: bigint, error: number, what: string) => {
    const reply = await client.readReply();
    assert.equal(reply.cookie, cookie, what);
    assert.equal(reply.error, error, `${what}: error ${reply.error}, expected ${error}`);
    assert.equal(reply.data, undefined, `${what}: no data with an error`);
  };
  try {
    const client = await open();
    // Past the end: EINVAL for reads and trims, ENOSPC for writes and write-zeroes (proto.md).
    await expectError(client, client.request(CMD.READ, SIZE - 100, 200), NBD_ERR.EINVAL, 'read past the end');
    await expectError(client, client.request(CMD.READ, 2n ** 63n, 1), NBD_ERR.EINVAL, 'read at offset 2^63');
    await expectError(client, client.request(CMD.WRITE, SIZE - 100, 200, { data: Buffer.alloc(200, 1) }), NBD_ERR.ENOSPC, 'write past the end');
    await expectError(client, client.request(CMD.TRIM, SIZE, 1), NBD_ERR.EINVAL, 'trim past the end');
    await expectError(client, client.request(CMD.WRITE_ZEROES, 2n ** 64n - 1n, 1), NBD_ERR.ENOSPC, 'write-zeroes past the end (offset + length overflows 64 bits)');
    // Oversized: a read above the maximum payload is refused; so is a write, whose payload is
    // read and dropped so the next request is understood.
    await expectError(client, client.request(CMD.READ, 0, MAX_REQUEST + 1), NBD_ERR.EINVAL, 'read above the maximum request size');
    await expectError(client, client.request(CMD.WRITE, UNTOUCHED, 2 * MAX_REQUEST, { data: Buffer.alloc(2 * MAX_REQUEST, 7) }), NBD_ERR.EINVAL, 'write above the maximum request size');
    assert.ok((await volume.device.read(UNTOUCHED, 4096)).equals(Buffer.alloc(4096)), 'the refused write wrote nothing');
    // A trim or write-zeroes has no payload: any length within the disk is served.
    client.request(CMD.TRIM, 0, 4 * MAX_REQUEST);
    assert.equal((await client.readReply()).error, 0, 'trim of four times the maximum payload');
    client.request(CMD.WRITE_ZEROES, 0, SIZE, { flags: CMD_FLAG.NO_HOLE });
    assert.equal((await client.readReply()).error, 0, 'write-zeroes of the whole disk (64 times the maximum payload)');
    // Unknown commands and flags: EINVAL.
    await expectError(client, client.request(99, 0, 0), NBD_ERR.EINVAL, 'unknown command');
    await expectError(client, client.request(CMD.BLOCK_STATUS, 0, 4096), NBD_ERR.EINVAL, 'block status without a meta context');
    await expectError(client, client.request(CMD.READ, 0, 512, { flags: 0x400 }), NBD_ERR.EINVAL, 'unknown flag');
    await expectError(client, client.request(CMD.WRITE, 0, 512, { flags: CMD_FLAG.NO_HOLE, data: Buffer.alloc(512, 1) }), NBD_ERR.EINVAL, 'NO_HOLE on a write');
    await expectError(client, client.request(CMD.READ, 0, 512, { flags: CMD_FLAG.DF }), NBD_ERR.EINVAL, 'DF without structured replies');
    // Zero-length requests are harmless.
    client.request(CMD.READ, 0, 0);
    assert.equal((await client.readReply()).error, 0, 'a read of 0 bytes');
    // Still in step after all of that.
    const cookie = client.request(CMD.READ, 0, 8);
    const reply = await client.readReply();
    assert.equal(reply.cookie, cookie);
    assert.ok(reply.data?.equals(Buffer.alloc(8)));
    await other.stillWorks();

    // A write too large to read past (100 MiB): refused, then the connection is closed.
    const huge = await open();
    await expectError(huge, huge.request(CMD.WRITE, 0, 100 << 20), NBD_ERR.EINVAL, 'write of 100 MiB');
    assert.equal(await huge.closesWithin(), true, 'the server closes after refusing a write it will not read past');
    await other.stillWorks();

    // Bad request magic: the stream is out of step; the server closes the connection.
    const badMagic = await open();
    badMagic.request(CMD.READ, 0, 512, { magic: 0xdeadbeef });
    assert.equal(await badMagic.closesWithin(), true, 'bad request magic closes the connection');
    await other.stillWorks();

    // Abrupt closes: in the middle of a header, of a write's payload, and with reads in flight.
    const midHeader = await open();
    midHeader.write(Buffer.from([0x25, 0x60, 0x95, 0x13, 0, 0]));
    midHeader.destroy();
    const midPayload = await open();
    midPayload.request(CMD.WRITE, UNTOUCHED, 65536, { data: Buffer.alloc(30_000, 9) }); // 30000 of 65536 bytes
    midPayload.destroy();
    const readsInFlight = await open();
    for (let i = 0; i < 50; i++) readsInFlight.request(CMD.READ, i * 65536, 65536);
    readsInFlight.socket.resetAndDestroy();
    await other.stillWorks();
    assert.ok((await volume.device.read(UNTOUCHED, 65536)).equals(Buffer.alloc(65536)), 'the cut-off write wrote nothing');
    await new Promise((resolve) => setTimeout(resolve, 100));
    await other.stillWorks();
  } finally {
    for (const client of clients) client.destroy();
    other.client.destroy();
    await volume.stop();
  }
  assert.ok(volume.logLines.some((line) => /WARN .*bad magic 0xdeadbeef/.test(line)), 'the bad request magic was logged');
  assert.ok(volume.logLines.some((line) => /WARN .*write of 104857600 bytes/.test(line)), 'the disconnect for the huge write was logged');
  assert.deepEqual(volume.logLines.filter((line) => /^ERROR/.test(line)), [], 'no request failed in the device');
});
