import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MemoryStore, type MemoryVolume } from '../../plugins/memory/memory-store.js';
import { serveVolume } from '../helpers/nbd-served-volume.js';
import { CMD, CMD_FLAG, RawNbdClient } from '../helpers/nbd-raw-client.js';

const BLOCK = 64 << 10;
const key = (block: number) => block.toString(16).padStart(8, '0');

/**
 * A volume behind a write-back cache that would hold dirty blocks for a minute: whatever is in
 * the store right after a reply got there because that reply waited for it.
 */
async function slowCacheVolume() {
  const objects: MemoryVolume = new Map();
  const volume = await serveVolume({ store: () => new MemoryStore(objects), config: { blockCacheWriteDelay: 60_000, blockSize: BLOCK } });
  const stored = (block: number) => objects.get(key(block))?.body;
  return { volume, stored };
}

test('FUA: a WRITE, WRITE_ZEROES or TRIM with NBD_CMD_FLAG_FUA is in the store when its reply arrives; without it, it waits in the cache', { timeout: 20_000 }, async () => {
  const { volume, stored } = await slowCacheVolume();
  const { client } = await RawNbdClient.open(volume.connectTo);
  try {
    const lazy = randomBytes(BLOCK);
    client.request(CMD.WRITE, 2 * BLOCK, BLOCK, { data: lazy });
    assert.equal((await client.readReply()).error, 0);
    assert.equal(stored(2), undefined, 'a write without FUA is only in the cache');

    const durable = randomBytes(BLOCK);
    client.request(CMD.WRITE, 5 * BLOCK, BLOCK, { data: durable, flags: CMD_FLAG.FUA });
    assert.equal((await client.readReply()).error, 0);
    assert.ok(stored(5)?.equals(durable), 'the FUA write is stored before its reply');

    // A partial FUA write: the block is read, patched and stored before the reply.
    client.request(CMD.WRITE, 8 * BLOCK + 100, 10, { data: Buffer.alloc(10, 0xee), flags: CMD_FLAG.FUA });
    assert.equal((await client.readReply()).error, 0);
    assert.ok(stored(8)?.subarray(100, 110).equals(Buffer.alloc(10, 0xee)));

    // Zeroing with FUA: an all-zero block has no object, and the delete happened before the reply.
    client.request(CMD.WRITE_ZEROES, 5 * BLOCK, BLOCK, { flags: CMD_FLAG.FUA });
    assert.equal((await client.readReply()).error, 0);
    assert.equal(stored(5), undefined, 'FUA write-zeroes deleted the object before its reply');
    client.request(CMD.WRITE, 6 * BLOCK, BLOCK, { data: durable, flags: CMD_FLAG.FUA });
    await client.readReply();
    client.request(CMD.TRIM, 6 * BLOCK, BLOCK, { flags: CMD_FLAG.FUA });
    assert.equal((await client.readReply()).error, 0);
    assert.equal(stored(6), undefined, 'FUA trim deleted the object before its reply');
    await client.disconnect();
  } finally {
    client.destroy();
    await volume.stop();
  }
});

test('FLUSH: every write acknowledged before it is in the store when its reply arrives, including writes acknowledged on another connection (CAN_MULTI_CONN)', { timeout: 20_000 }, async () => {
  const { volume, stored } = await slowCacheVolume();
  const { client: writer } = await RawNbdClient.open(volume.connectTo);
  const { client: flusher } = await RawNbdClient.open(volume.connectTo, { structured: true });
  try {
    const blocks = [1, 3, 4];
    const data = blocks.map(() => randomBytes(BLOCK));
    blocks.forEach((block, i) => writer.request(CMD.WRITE, block * BLOCK, BLOCK, { data: data[i]! }));
    for (let i = 0; i < blocks.length; i++) assert.equal((await writer.readReply()).error, 0);
    // An unaligned write spanning two blocks, acknowledged too.
    const spanning = randomBytes(1000);
    writer.request(CMD.WRITE, 10 * BLOCK - 500, 1000, { data: spanning });
    assert.equal((await writer.readReply()).error, 0);
    for (const block of [...blocks, 9, 10]) assert.equal(stored(block), undefined, `block ${block} waits in the cache`);

    flusher.request(CMD.FLUSH, 0, 0);
    assert.equal((await flusher.readReply()).error, 0);
    blocks.forEach((block, i) => assert.ok(stored(block)?.equals(data[i]!), `block ${block} is stored once FLUSH was answered`));
    assert.ok(stored(9)?.subarray(BLOCK - 500).equals(spanning.subarray(0, 500)));
    assert.ok(stored(10)?.subarray(0, 500).equals(spanning.subarray(500)));
    await writer.disconnect();
    await flusher.disconnect();
  } finally {
    writer.destroy();
    flusher.destroy();
    await volume.stop();
  }
});
