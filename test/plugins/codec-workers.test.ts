import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CodecWorkerPool, isCodecWorkerError, type WorkerCodecHandle } from '../../plugins/codec-workers/index.js';

const T = { timeout: 30_000 };

type TestOps = {
  /** Answers the input with the thread that ran it, after blocking that thread `ms`. */
  echo: [input: { n: number; ms?: number }, output: { n: number; thread: number; loads: number; init: unknown }];
  /** Reverses the bytes of a moved ArrayBuffer and moves the result back. */
  reverse: [input: ArrayBuffer, output: ArrayBuffer];
  throws: [input: string, output: never];
  /** Ends the thread (process.exit in a worker ends only the worker), after blocking `ms`. */
  exit: [input: { ms?: number }, output: never];
  /** Answers, then throws outside any job: the thread dies between jobs. */
  throwLater: [input: null, output: number];
  /** Never answers; throws outside the job meanwhile: the thread dies holding it. */
  throwWhileHeld: [input: null, output: never];
};

// A worker-side codec as a data: URL module, so the test needs no file beside it. `loads` counts
// createWorkerCodec calls in the thread: the init must arrive once per thread, not per job.
const TEST_CODEC = `data:text/javascript,${encodeURIComponent(`
  import { threadId } from 'node:worker_threads';
  let loads = 0;
  const block = (ms) => { if (ms) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms); };
  export function createWorkerCodec(init) {
    loads++;
    return {
      echo: ({ n, ms }) => { block(ms); return { value: { n, thread: threadId, loads, init } }; },
      reverse: (buffer) => { const out = new Uint8Array(buffer).reverse().slice(); return { value: out.buffer, transfer: [out.buffer] }; },
      throws: (message) => { throw new RangeError(message); },
      exit: ({ ms }) => { block(ms); process.exit(7); },
      throwLater: () => { setTimeout(() => { throw new Error('thrown outside any job'); }, 1); return { value: 1 }; },
      throwWhileHeld: () => new Promise(() => { setTimeout(() => { throw new Error('thrown outside any job'); }, 1); }),
    };
  }
`)}`;

async function withPool(options: ConstructorParameters<typeof CodecWorkerPool>[0], body: (pool: CodecWorkerPool, codec: WorkerCodecHandle<TestOps>) => Promise<void>): Promise<void> {
  const pool = new CodecWorkerPool(options);
  try {
    await body(pool, pool.load<{ volume: string }, TestOps>(TEST_CODEC, { volume: 'v1' }));
  } finally {
    await pool.close();
  }
}

test('jobs run in the threads and each caller gets its own result, whatever order they finish in', T, async () => {
  await withPool({ size: 2 }, async (pool, codec) => {
    // Uneven job lengths so that jobs on the two threads finish out of submission order.
    const results = await Promise.all(Array.from({ length: 40 }, (_, n) => pool.run(codec, 'echo', { n, ms: (n * 7) % 5 })));
    assert.deepEqual(results.map((r) => r.n), Array.from({ length: 40 }, (_, n) => n));
    assert.equal(new Set(results.map((r) => r.thread)).size, 2, 'both threads worked');
    assert.ok(results.every((r) => r.loads === 1), 'the codec was created once per thread, not per job');
    assert.ok(results.every((r) => (r.init as { volume: string }).volume === 'v1'), 'the init data reached every thread');
    assert.equal(pool.threadsStarted, 2);
  });
});

test('jobs start in the order they were submitted: one thread answers them in that order', T, async () => {
  await withPool({ size: 1 }, async (pool, codec) => {
    const finished: number[] = [];
    await Promise.all(Array.from({ length: 20 }, (_, n) => pool.run(codec, 'echo', { n, ms: n % 3 }).then((r) => finished.push(r.n))));
    assert.deepEqual(finished, Array.from({ length: 20 }, (_, n) => n));
  });
});

test('threads start as jobs need them, up to the pool size', T, async () => {
  await withPool({ size: 3 }, async (pool, codec) => {
    assert.equal(pool.liveThreads, 0, 'no thread before the first job');
    await pool.run(codec, 'echo', { n: 1 });
    assert.equal(pool.liveThreads, 1, 'one job, one thread');
    await Promise.all(Array.from({ length: 12 }, (_, n) => pool.run(codec, 'echo', { n, ms: 2 })));
    assert.equal(pool.liveThreads, 3);
  });
});

test('transferred buffers move both ways: the sender\'s is detached, the result arrives without a copy back', T, async () => {
  await withPool({ size: 1 }, async (pool, codec) => {
    const input = new Uint8Array([1, 2, 3, 4, 5]).buffer;
    const output = await pool.run(codec, 'reverse', input, [input]);
    assert.equal(input.byteLength, 0, 'moved, not copied');
    assert.deepEqual([...new Uint8Array(output)], [5, 4, 3, 2, 1]);
  });
});

test('a job that throws fails alone, with the worker\'s message; the thread goes on', T, async () => {
  await withPool({ size: 1 }, async (pool, codec) => {
    const [failed, next] = await Promise.allSettled([pool.run(codec, 'throws', 'bad input 42'), pool.run(codec, 'echo', { n: 2 })]);
    assert.equal(failed.status, 'rejected');
    const error = (failed as PromiseRejectedResult).reason;
    assert.ok(isCodecWorkerError(error) && error.kind === 'failed', String(error));
    assert.match(error.message, /"throws" job failed: bad input 42/);
    assert.equal(next.status, 'fulfilled');
    assert.equal(pool.threadsStarted, 1, 'no thread was replaced');
  });
});

test('a thread that exits fails only its own job; the other thread\'s jobs and the queue carry on, on a new thread with the codec loaded again', T, async () => {
  await withPool({ size: 2, jobsPerWorker: 1 }, async (pool, codec) => {
    const exit = pool.run(codec, 'exit', { ms: 20 });
    const others = Array.from({ length: 10 }, (_, n) => pool.run(codec, 'echo', { n, ms: 5 }));
    const [crashed, ...rest] = await Promise.allSettled([exit, ...others]);
    assert.equal(crashed!.status, 'rejected');
    const error = (crashed as PromiseRejectedResult).reason;
    assert.ok(isCodecWorkerError(error) && error.kind === 'crashed', String(error));
    assert.match(error.message, /codec worker \d+ exited with code 7 while it held 1 job\(s\)/);
    assert.deepEqual(rest.map((r) => r.status), rest.map(() => 'fulfilled'), 'every other job succeeded');
    const after = await Promise.all(Array.from({ length: 6 }, (_, n) => pool.run(codec, 'echo', { n, ms: 3 })));
    assert.ok(after.every((r) => (r.init as { volume: string }).volume === 'v1'), 'the replacement thread got the codec and its init');
    assert.ok(pool.threadsStarted >= 3, `a thread replaced the one that exited (${pool.threadsStarted} started)`);
    assert.ok(pool.liveThreads <= 2);
  });
});

test('with two jobs per thread, a thread that exits fails the two it held and nothing else', T, async () => {
  await withPool({ size: 1, jobsPerWorker: 2 }, async (pool, codec) => {
    const jobs = await Promise.allSettled([pool.run(codec, 'exit', { ms: 20 }), pool.run(codec, 'echo', { n: 1 }), pool.run(codec, 'echo', { n: 2 }), pool.run(codec, 'echo', { n: 3 })]);
    assert.deepEqual(jobs.map((job) => job.status), ['rejected', 'rejected', 'fulfilled', 'fulfilled']);
    assert.match(String((jobs[0] as PromiseRejectedResult).reason), /exited with code 7 while it held 2 job\(s\)/);
    assert.equal((jobs[1] as PromiseRejectedResult).reason, (jobs[0] as PromiseRejectedResult).reason, 'one error for the one crash');
  });
});

test('a thread that throws outside any job dies: the jobs it held fail with that error; one that dies idle is replaced at the next job', T, async () => {
  await withPool({ size: 1 }, async (pool, codec) => {
    await assert.rejects(pool.run(codec, 'throwWhileHeld', null), (error: unknown) =>
      isCodecWorkerError(error) && error.kind === 'crashed' && /codec worker 1 died: thrown outside any job while it held 1 job\(s\)/.test(error.message));
    assert.equal(await pool.run(codec, 'throwLater', null), 1);
    // The throw ends the second thread once the job has answered; give it the time to.
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(pool.liveThreads, 0);
    assert.equal((await pool.run(codec, 'echo', { n: 2 })).n, 2);
    assert.equal(pool.threadsStarted, 3);
  });
});

test('close() fails queued and running jobs as "closed", ends every thread, and refuses new jobs', T, async () => {
  const pool = new CodecWorkerPool({ size: 1 });
  const codec = pool.load<null, TestOps>(TEST_CODEC, null);
  const jobs = Promise.allSettled([pool.run(codec, 'echo', { n: 1, ms: 200 }), pool.run(codec, 'echo', { n: 2 })]);
  await new Promise((resolve) => setTimeout(resolve, 50));
  await pool.close();
  for (const job of await jobs) {
    assert.equal(job.status, 'rejected');
    const error = (job as PromiseRejectedResult).reason;
    assert.ok(isCodecWorkerError(error) && error.kind === 'closed', String(error));
  }
  assert.equal(pool.liveThreads, 0);
  await assert.rejects(pool.run(codec, 'echo', { n: 3 }), (error: unknown) => isCodecWorkerError(error) && error.kind === 'closed');
  assert.throws(() => pool.load(TEST_CODEC, null), /closed/);
});

test('unload() forgets the codec: its later jobs fail as "closed", other codecs go on', T, async () => {
  await withPool({ size: 1 }, async (pool, codec) => {
    const other = pool.load<{ volume: string }, TestOps>(TEST_CODEC, { volume: 'v2' });
    pool.unload(codec);
    await assert.rejects(pool.run(codec, 'echo', { n: 1 }), (error: unknown) => isCodecWorkerError(error) && error.kind === 'closed');
    assert.equal(((await pool.run(other, 'echo', { n: 1 })).init as { volume: string }).volume, 'v2');
  });
});

test('init data that cannot cross threads is refused at load()', T, async () => {
  const pool = new CodecWorkerPool({ size: 1 });
  try {
    assert.throws(() => pool.load(TEST_CODEC, { f: () => 1 }), /could not be cloned/);
  } finally {
    await pool.close();
  }
});

test('a module that cannot load in the threads fails its jobs as "unavailable", with the reason', T, async () => {
  await withPool({ size: 1 }, async (pool, codec) => {
    const broken = pool.load<null, TestOps>('data:text/javascript,export const x = 1;', null);
    await assert.rejects(pool.run(broken, 'echo', { n: 1 }), (error: unknown) =>
      isCodecWorkerError(error) && error.kind === 'unavailable' && /cannot run in codec worker 1: .*has no createWorkerCodec export/.test(error.message));
    assert.equal((await pool.run(codec, 'echo', { n: 2 })).n, 2, 'other codecs in the same thread are unaffected');
  });
});

test('threads that cannot start make the pool fail every job at once as "unavailable" after three tries', T, async () => {
  const pool = new CodecWorkerPool({ size: 1, workerScript: new URL('data:text/javascript,throw new Error("no threads here")') });
  try {
    const codec = pool.load<null, TestOps>(TEST_CODEC, null);
    const kinds: string[] = [];
    for (let i = 0; i < 5; i++) kinds.push(await pool.run(codec, 'echo', { n: i }).then(() => 'ok', (error: unknown) => (isCodecWorkerError(error) ? error.kind : String(error))));
    assert.deepEqual(kinds, ['crashed', 'crashed', 'unavailable', 'unavailable', 'unavailable']);
    assert.equal(pool.threadsStarted, 3, 'no thread started after the pool gave up');
    await assert.rejects(pool.run(codec, 'echo', { n: 9 }), /cannot run here: 3 in a row ended before their script ran \(the last failed: no threads here\)/);
  } finally {
    await pool.close();
  }
});

/** Run `source` as an ES module in a child node; resolves with its exit code, stderr and wall time. */
function runChild(source: string, timeoutMs = 20_000): Promise<{ code: number | null; stderr: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['--input-type=module', '-e', source], { stdio: ['ignore', 'inherit', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the child process did not exit within ${timeoutMs} ms (threads kept it alive?); stderr: ${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, ms: Date.now() - started });
    });
  });
}

const poolModule = JSON.stringify(new URL('../../plugins/codec-workers/index.js', import.meta.url).href);

test('idle threads never keep the process alive: a child that never closes its pool exits as soon as its work is done', T, async () => {
  const { code, stderr } = await runChild(`
    import { CodecWorkerPool } from ${poolModule};
    const pool = new CodecWorkerPool({ size: 2 });
    const codec = pool.load(${JSON.stringify(TEST_CODEC)}, null);
    const results = await Promise.all([1, 2, 3, 4].map((n) => pool.run(codec, 'echo', { n })));
    if (results.map((r) => r.n).join() !== '1,2,3,4' || pool.liveThreads !== 2) process.exit(3);
  `);
  assert.equal(code, 0, stderr);
});

test('a job in flight keeps the process alive until it answers (its result is not lost to an exit)', T, async () => {
  const { code, stderr } = await runChild(`
    import { CodecWorkerPool } from ${poolModule};
    const pool = new CodecWorkerPool({ size: 1 });
    const codec = pool.load(${JSON.stringify(TEST_CODEC)}, null);
    // Nothing else holds the event loop: only the busy thread's ref keeps the process for the answer.
    pool.run(codec, 'echo', { n: 5, ms: 300 }).then((r) => { process.exitCode = r.n === 5 ? 42 : 3; });
  `);
  assert.equal(code, 42, stderr);
});

const fromDist = (path: string) => JSON.stringify(new URL(path, import.meta.url).href);

test('a process that mounts and unmounts an encrypted engine whose blocks go through the threads exits promptly', T, async () => {
  const { code, stderr, ms } = await runChild(`
    import { Engine } from ${fromDist('../../src/engine/engine.js')};
    import { memoryPlugin } from ${fromDist('../../plugins/memory/index.js')};
    import { zeroMapPlugin } from ${fromDist('../../plugins/zero-map/index.js')};
    import { createEncryptPlugin } from ${fromDist('../../plugins/encrypt-hmac/index.js')};
    import { acquireSharedCodecWorkerPool } from ${fromDist('../../plugins/codec-workers/index.js')};
    import { testConfig } from ${fromDist('../helpers/test-config.js')};
    const blockSize = 64 * 1024;
    const engine = Engine.create(testConfig({ store: 'memory', size: 16 * blockSize, blockSize }), [
      memoryPlugin(), zeroMapPlugin(), createEncryptPlugin({ password: 'p' }, { workerMinBytes: 0 }),
    ]);
    const device = await engine.mount();
    const data = Buffer.alloc(4 * blockSize, 'exit promptly');
    await device.write(0, data);
    if (!(await device.read(0, data.length)).equals(data)) process.exit(3);
    const peek = acquireSharedCodecWorkerPool();
    const { pool } = peek;
    await peek.release();
    if (pool.threadsStarted === 0) process.exit(4);
    await engine.shutdown();
    if (!pool.isClosed || pool.liveThreads !== 0) process.exit(5);
    console.error('shut down at ' + Math.round(performance.now()) + ' ms');
  `);
  assert.equal(code, 0, stderr);
  // Node starts in ~50 ms and the PBKDF2 of the mount takes a few ms; a thread left running would
  // hold the process until the 20 s timeout.
  assert.ok(ms < 10_000, `exited after ${ms} ms`);
});

test('a process that exits with the encrypted engine still mounted (no shutdown) is not held by the threads', T, async () => {
  const { code, stderr } = await runChild(`
    import { Engine } from ${fromDist('../../src/engine/engine.js')};
    import { memoryPlugin } from ${fromDist('../../plugins/memory/index.js')};
    import { zeroMapPlugin } from ${fromDist('../../plugins/zero-map/index.js')};
    import { createEncryptPlugin } from ${fromDist('../../plugins/encrypt-hmac/index.js')};
    import { testConfig } from ${fromDist('../helpers/test-config.js')};
    const blockSize = 64 * 1024;
    const engine = Engine.create(testConfig({ store: 'memory', size: 16 * blockSize, blockSize }), [
      memoryPlugin(), zeroMapPlugin(), createEncryptPlugin({ password: 'p' }, { workerMinBytes: 0 }),
    ]);
    const device = await engine.mount();
    await device.write(0, Buffer.alloc(blockSize, 1));
  `);
  assert.equal(code, 0, stderr);
});

// The worker script is compiled beside the pool: a build that lost it would fail every job.
test('the worker script exists beside the pool in the build', T, async () => {
  const { existsSync } = await import('node:fs');
  assert.ok(existsSync(fileURLToPath(new URL('../../plugins/codec-workers/codec-worker.js', import.meta.url))));
});
