import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { BlockCache, type BlockSource } from '../../plugins/block-cache/block-cache.js';
import { MemoryStorage } from '../../plugins/block-cache/memory-storage.js';
import type { Logger } from '../../src/engine/logger.js';

/**
 * Found by the soak (scripts/soak.ts, seed 1 with --latencyMean=0 --latencyMax=0): a write that
 * arrives while the block's previous upload is finishing was lost when an eviction chose the
 * block in between. The upload, seeing the old version stored, put the entry back in the clean
 * LRU while the new bytes were still on their way into the storage; the eviction then removed
 * them, reads returned the old bytes, and the orphaned dirty entry later uploaded whatever the
 * storage held for the block, so even fsync reported success. The storage here is slow on
 * purpose, as a cache file's fsyncs are, which makes the window wide enough to hit every time.
 */
const BLOCK = 16;

class SlowStorage extends MemoryStorage {
  override async putDirty(block: number, data: Buffer): Promise<void> {
    await sleep(20);
    return super.putDirty(block, data);
  }

  override async markClean(): Promise<void> {
    await sleep(20);
  }
}

test('a write landing while the block\'s upload finishes is not lost when the cache evicts the block meanwhile', { timeout: 10_000 }, async () => {
  const stored = new Map<number, Buffer>();
  const warnings: string[] = [];
  const log: Logger = { error: () => {}, warn: (message) => warnings.push(message), info: () => {}, debug: () => {} };
  const source: BlockSource = {
    numBlocks: 8,
    blockSize: BLOCK,
    fetch: async (block) => {
      const data = stored.get(block);
      return data ? { data: Buffer.from(data), etag: 'e' } : { data: Buffer.alloc(BLOCK), etag: undefined };
    },
    etag: async (block) => (stored.has(block) ? 'e' : undefined),
    store: async (block, data) => {
      await sleep(5);
      stored.set(block, Buffer.from(data));
      return 'e';
    },
    evicted: async () => {},
  };
  const cache = new BlockCache(source, new SlowStorage(), {
    capacity: 1, threads: 4, writeDelay: 0, sync: false, timeout: 0, maxDirty: 0, numProtected: 0, readAhead: 0, readAheadTrigger: 2, retryPauseMs: 50,
  }, log);
  cache.restore([], false);
  const first = Buffer.alloc(BLOCK, 0xaa);
  const second = Buffer.alloc(BLOCK, 0xbb);
  try {
    // Dirty at once (write delay 0): its upload starts, the PUT takes 5 ms, then markClean 20 ms.
    await cache.write(0, first, false);
    await sleep(10);
    // Queued behind markClean; its putDirty takes 20 ms more after that.
    const rewrite = cache.write(0, second, false);
    await sleep(20);
    // The upload is done and the rewrite still under way: another block needs the only slot.
    const other = cache.read(1);
    await rewrite;
    await other;
    assert.ok((await cache.read(0)).equals(second), 'the acknowledged rewrite reads back');
    await cache.flush();
    assert.ok(stored.get(0)?.equals(second), 'and is what fsync stored');
    assert.deepEqual(warnings.filter((line) => /cache bug/.test(line)), []);
  } finally {
    await cache.stop();
  }
});
