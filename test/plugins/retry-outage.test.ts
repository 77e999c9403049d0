// A frozen server (s3rver stopped with SIGSTOP: connections are accepted, nothing is answered),
// through the s3 store and the retry layer as a mount has them: an outage shorter than the retry
// budget costs nothing, a longer one fails the request within --timeout + --maxRetryPause naming
// the block, and an unmount during the hang ends within --shutdownTimeout.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { s3Plugin } from '../../plugins/s3/index.js';
import { retryPlugin } from '../../plugins/retry/index.js';
import { blockCachePlugin } from '../../plugins/block-cache/index.js';
import { Engine } from '../../src/engine/engine.js';
import type { S3BackerPlugin } from '../../src/engine/plugin.js';
import type { OptionValues } from '../../src/config/options.js';
import { isS3BackerError } from '../../src/errors/s3backer-error.js';
import { startS3rver, type S3rverServer } from '../helpers/s3rver-server.js';
import { testConfig } from '../helpers/test-config.js';

const BLOCK = 128 * 1024;
let server: S3rverServer;
let buckets = 0;

before(async () => {
  server = await startS3rver();
});
after(async () => {
  await server?.stop();
});

async function volume(overrides: Partial<OptionValues>, extra: (config: ReturnType<typeof testConfig>) => S3BackerPlugin[] = () => []) {
  const bucket = `outage-${++buckets}`;
  await server.createBucket(bucket);
  const config = testConfig({
    store: 's3', bucket, baseURL: server.endpoint, accessId: server.accessId, accessKey: server.accessKey,
    size: 32 * BLOCK, blockSize: BLOCK, prefix: 'vol/', ...overrides,
  });
  return { config, engine: () => Engine.create(config, [s3Plugin(), retryPlugin(config), ...extra(config)]) };
}

const pattern = (block: number) => Buffer.alloc(BLOCK, block + 1);
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** Always let the server go on, whatever the test did. */
async function withPausedServer<T>(run: () => Promise<T>): Promise<T> {
  server.pause();
  try {
    return await run();
  } finally {
    server.resume();
  }
}

test('an outage shorter than the retry budget: the write waits it out, nothing is lost, no error', { timeout: 60_000 }, async () => {
  // Budget: --timeout 1 s + --maxRetryPause 4 s; the server is frozen for 2 s.
  const { engine: create } = await volume({ timeout: 1, initialRetryPause: 100, maxRetryPause: 4000 });
  const engine = create();
  const device = await engine.mount();
  try {
    await device.write(0, pattern(0));
    let written = false;
    await withPausedServer(async () => {
      const writing = device.write(5 * BLOCK, pattern(5)).then(() => { written = true; });
      await new Promise((resolve) => setTimeout(resolve, 2000));
      assert.equal(written, false, 'the server is frozen: the write cannot have finished');
      server.resume();
      await writing;
    });
    assert.ok((await device.read(5 * BLOCK, BLOCK)).equals(pattern(5)));
    assert.ok((await device.read(0, BLOCK)).equals(pattern(0)));
    const stats = engine.stats.render();
    assert.match(stats, /^http_num_retries +[1-9]\d*$/m, 'it took retries');
    assert.match(stats, /^curl_timeouts +[1-9]\d*$/m, 'timed-out attempts are counted');
  } finally {
    await engine.shutdown();
  }
  // Remounted: both blocks are there.
  const again = create();
  const device2 = await again.mount();
  try {
    assert.ok((await device2.read(5 * BLOCK, BLOCK)).equals(pattern(5)));
  } finally {
    await again.shutdown();
  }
});

test('a longer outage fails the write within --timeout + --maxRetryPause, naming the block; data written before survives', { timeout: 60_000 }, async (t) => {
  const timeout = 1;
  const maxRetryPause = 3000;
  const bound = timeout * 1000 + maxRetryPause;
  const { engine: create } = await volume({ timeout, initialRetryPause: 100, maxRetryPause });
  const engine = create();
  const device = await engine.mount();
  let elapsed = 0;
  try {
    await device.write(2 * BLOCK, pattern(2));
    await withPausedServer(async () => {
      const started = performance.now();
      await assert.rejects(device.write(7 * BLOCK, pattern(7)), (error: unknown) => {
        elapsed = performance.now() - started;
        return isS3BackerError(error, 'S3B_BACKEND_UNREACHABLE') && error.block === 7
          && /^block 00000007: storing object "vol\/00000007": gave up after \d+ attempts in [\d.]+ s/.test(error.message)
          && /--timeout/.test(error.message);
      });
    });
    t.diagnostic(`a 128 KiB write against a frozen server failed after ${seconds(elapsed)} (bound --timeout + --maxRetryPause = ${seconds(bound)})`);
    assert.ok(elapsed <= bound + 500, `failed after ${seconds(elapsed)}, bound ${seconds(bound)}`);
    assert.ok(elapsed >= bound - 500, `it used the budget: ${seconds(elapsed)}`);
    const stats = engine.stats.render();
    assert.match(stats, /^curl_timeouts +[2-9]\d*$/m);
  } finally {
    await engine.shutdown();
  }
  const again = create();
  const device2 = await again.mount();
  try {
    assert.ok((await device2.read(2 * BLOCK, BLOCK)).equals(pattern(2)), 'written before the outage');
  } finally {
    await again.shutdown();
  }
});

test('unmount during a hang (a write in flight) ends within --shutdownTimeout: the request is abandoned, the flag stays', { timeout: 60_000 }, async (t) => {
  // The defaults would hold the write 60 s (--timeout 30 s + --maxRetryPause 30 s).
  const { engine: create } = await volume({ shutdownTimeout: 2 });
  const engine = create();
  const device = await engine.mount();
  let elapsed = 0;
  await withPausedServer(async () => {
    const writing = device.write(3 * BLOCK, pattern(3));
    const written = assert.rejects(writing, (error: unknown) => isS3BackerError(error, 'S3B_STORE_ABORTED') && error.block === 3);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = performance.now();
    await assert.rejects(engine.shutdown(), (error: unknown) => isS3BackerError(error, 'S3B_STORE_ABORTED') && /--shutdownTimeout=2 s/.test((error as Error).message));
    elapsed = performance.now() - started;
    await written;
  });
  t.diagnostic(`shutdown during a hang took ${seconds(elapsed)} (--shutdownTimeout=2)`);
  assert.ok(elapsed >= 1900 && elapsed < 3000, `${seconds(elapsed)}`);
  // The mounted flag was not cleared: the next mount is refused.
  await assert.rejects(create().mount(), (error: unknown) => isS3BackerError(error, 'S3B_MOUNTED_ELSEWHERE'));
});

test('unmount during a hang with dirty blocks in the cache ends within --shutdownTimeout, saying the blocks are not stored', { timeout: 60_000 }, async (t) => {
  const { engine: create } = await volume({ shutdownTimeout: 2 }, () => [blockCachePlugin({ size: 16, writeDelay: 0 })]);
  const engine = create();
  const device = await engine.mount();
  let elapsed = 0;
  await withPausedServer(async () => {
    for (let block = 0; block < 4; block++) await device.write(block * BLOCK, pattern(block));
    const started = performance.now();
    await assert.rejects(engine.shutdown(), (error: unknown) =>
      isS3BackerError(error, 'S3B_FLUSH_FAILED') && /4 dirty blocks could not be stored/.test((error as Error).message));
    elapsed = performance.now() - started;
  });
  t.diagnostic(`shutdown with 4 dirty blocks during a hang took ${seconds(elapsed)} (--shutdownTimeout=2)`);
  assert.ok(elapsed >= 1900 && elapsed < 3000, `${seconds(elapsed)}`);
});
