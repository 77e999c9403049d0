import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { CodecWorkerError } from './codec-worker-error.js';
import type { WorkerOps } from './worker-codec.js';
import type { FromWorker, ToWorker } from './worker-messages.js';

const WORKER_SCRIPT = new URL('./codec-worker.js', import.meta.url);

/**
 * The node flags a thread gets: not the process's. A worker inherits them by default, and some
 * make it fail at start (`node --input-type=module -e …` gives every worker
 * ERR_INPUT_TYPE_NOT_ALLOWED); codec threads need none but readable stack traces.
 */
const WORKER_EXEC_ARGV = process.execArgv.filter((flag) => flag === '--enable-source-maps');

/**
 * Threads that die one after the other before their script runs: the threads cannot start
 * here (a missing worker script, a flag or limit the process was started with). The pool then
 * stops starting them and fails every job at once as `unavailable`, instead of paying a thread's
 * start-up (tens of ms) for each job only to fail it.
 */
const START_FAILURES_BEFORE_GIVING_UP = 3;

/**
 * At most this many threads by default. Codec jobs are CPU work: more threads than cores only
 * add switching, and past four the main thread (which still does the pipeline's own per-block
 * work) is the limit long before the workers are.
 */
export const MAX_DEFAULT_CODEC_WORKERS = 4;

/** The default pool size: one thread per core the process may use, at most MAX_DEFAULT_CODEC_WORKERS. */
export function defaultCodecWorkers(): number {
  return Math.max(1, Math.min(availableParallelism(), MAX_DEFAULT_CODEC_WORKERS));
}

export interface CodecWorkerPoolOptions {
  /** Worker threads at most (started as jobs need them); default `defaultCodecWorkers()`. */
  readonly size?: number;
  /**
   * Jobs one thread holds at a time (default 2): the next job is already waiting in the thread
   * when it answers one, instead of the thread idling for the main thread's round trip. Measured
   * through the object pipeline on the project's 2-core VM, 2 threads, 64 MiB per pass: AES + HMAC
   * at 1 MiB wrote 721 MB/s with one job per thread and 740–762 with two, zstd-3 at 64 KiB 385–390
   * and 465–484 MB/s, zstd-3 at 256 KiB read 1400–1406 and 1523–1576 MB/s. A thread that crashes
   * fails the jobs it holds, so at most this many.
   */
  readonly jobsPerWorker?: number;
  /** The thread's script (tests: one that cannot start); default codec-worker.js beside this file. */
  readonly workerScript?: URL;
}

/** A codec loaded into the pool's threads by `load()`: what `run()` and `unload()` take. */
export interface WorkerCodecHandle<Ops extends WorkerOps> {
  readonly id: number;
  /** The worker-side module's URL. */
  readonly module: string;
  /** Types only: the operations the module provides. */
  readonly ops?: Ops;
}

interface Job {
  readonly id: number;
  readonly codec: number;
  readonly op: string;
  readonly input: unknown;
  readonly transfer: readonly ArrayBuffer[];
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

interface Thread {
  readonly number: number;
  readonly worker: Worker;
  /** Jobs sent to this thread and not answered yet. */
  readonly jobs: Map<number, Job>;
  /** What the thread threw outside any job, before it exited. */
  error?: unknown;
  /** Its script ran (it said so): from then on it counts as started. */
  ready: boolean;
}

/**
 * Worker threads for codec work that would otherwise hold the main thread (AES + HMAC, zstd-napi):
 * a FIFO job queue in front of up to `size` threads, started when jobs first need them and
 * replaced when one dies.
 *
 * - Codecs are loaded once per pool and codec (`load`): the init data (key material) goes to each
 *   thread once, and again only to a thread that replaces a crashed one; jobs carry data alone.
 * - Jobs start in the order `run` was called. Each job's promise settles with its own result;
 *   jobs on different threads may finish in any order.
 * - Threads never keep the process alive while idle: each is unref'd, and ref'd only while it
 *   holds a job (a pending job must not be lost to a process that exits under it).
 * - A thread that exits or throws outside a job fails the jobs it held (CodecWorkerError
 *   `crashed`) and nothing else; the queue carries on with a new thread.
 * - Threads that cannot start at all (three in a row die before their script runs) make every job fail
 *   at once as `unavailable`, so a caller with a fallback stops waiting for them.
 * - `close()` fails what is queued and terminates every thread.
 */
export class CodecWorkerPool {
  readonly size: number;
  readonly jobsPerWorker: number;
  private readonly workerScript: URL;
  private readonly threads: Thread[] = [];
  private readonly queue: Job[] = [];
  private readonly codecs = new Map<number, { readonly module: string; readonly init: unknown }>();
  private nextJob = 1;
  private nextCodec = 1;
  private started = 0;
  private startFailures = 0;
  /** Set when threads cannot start here: every job fails with it. */
  private unavailable: CodecWorkerError | undefined;
  private closed = false;

  constructor(options: CodecWorkerPoolOptions = {}) {
    this.size = options.size ?? defaultCodecWorkers();
    this.jobsPerWorker = options.jobsPerWorker ?? 2;
    this.workerScript = options.workerScript ?? WORKER_SCRIPT;
    if (!Number.isInteger(this.size) || this.size < 1) throw new RangeError(`a codec worker pool needs at least one thread, not ${String(options.size)}`);
    if (!Number.isInteger(this.jobsPerWorker) || this.jobsPerWorker < 1) throw new RangeError(`jobsPerWorker must be a positive integer, not ${String(options.jobsPerWorker)}`);
  }

  /** Threads running now. */
  get liveThreads(): number {
    return this.threads.length;
  }

  /** Threads started since the pool was made (replacements included). */
  get threadsStarted(): number {
    return this.started;
  }

  /** Jobs waiting for a thread. */
  get queued(): number {
    return this.queue.length;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Load a worker-side codec module (see worker-codec.ts) into every thread, now and in threads
   * started later, with `init` (structured-cloned: key material goes here, once). Throws if `init`
   * cannot be cloned or the pool is closed.
   */
  load<Init, Ops extends WorkerOps>(module: string | URL, init: Init): WorkerCodecHandle<Ops> {
    if (this.closed) throw new CodecWorkerError('closed', 'the codec worker pool is closed: no codec can be loaded into it');
    // Fail here, with the caller on the stack, rather than in a thread started later.
    structuredClone(init);
    const handle: WorkerCodecHandle<Ops> = { id: this.nextCodec++, module: String(module) };
    this.codecs.set(handle.id, { module: handle.module, init });
    for (const thread of this.threads) this.post(thread, { kind: 'load', codec: handle.id, module: handle.module, init });
    return handle;
  }

  /** Forget a codec in every thread (its init data with it). Its queued jobs fail as `closed`. */
  unload(handle: WorkerCodecHandle<WorkerOps>): void {
    if (!this.codecs.delete(handle.id)) return;
    for (const thread of this.threads) this.post(thread, { kind: 'unload', codec: handle.id });
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const job = this.queue[i]!;
      if (job.codec !== handle.id) continue;
      this.queue.splice(i, 1);
      job.reject(new CodecWorkerError('closed', `the codec ${handle.module} was unloaded before its "${job.op}" job ran`));
    }
  }

  /**
   * Run `op` of a loaded codec on `input` in a worker thread. `transfer` lists ArrayBuffers of
   * `input` to move rather than copy: they are detached here at once, so list only buffers the
   * caller owns outright.
   */
  run<Ops extends WorkerOps, Op extends keyof Ops & string>(handle: WorkerCodecHandle<Ops>, op: Op, input: Ops[Op][0], transfer: readonly ArrayBuffer[] = []): Promise<Ops[Op][1]> {
    if (this.closed) return Promise.reject(new CodecWorkerError('closed', `the codec worker pool is closed: the "${op}" job was not run`));
    if (this.unavailable) return Promise.reject(this.unavailable);
    if (!this.codecs.has(handle.id)) return Promise.reject(new CodecWorkerError('closed', `the codec ${handle.module} is not loaded (unloaded at shutdown?): the "${op}" job was not run`));
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextJob++, codec: handle.id, op, input, transfer, resolve: resolve as (value: unknown) => void, reject });
      this.pump();
    });
  }

  /** Fail the queued jobs and terminate every thread; the jobs threads held fail as `closed`. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.codecs.clear();
    for (const job of this.queue.splice(0)) job.reject(new CodecWorkerError('closed', `the codec worker pool was closed before the "${job.op}" job ran`));
    await Promise.all(this.threads.map((thread) => thread.worker.terminate()));
  }

  /** Hand queued jobs to threads with room, starting threads up to `size`. */
  private pump(): void {
    while (this.queue.length > 0 && !this.closed) {
      const thread = this.threadWithRoom();
      if (!thread) return;
      this.send(thread, this.queue.shift()!);
    }
  }

  /** The least busy thread with room; a new thread rather than a second job for a busy one. */
  private threadWithRoom(): Thread | undefined {
    let best: Thread | undefined;
    for (const thread of this.threads) {
      if (thread.jobs.size < this.jobsPerWorker && (!best || thread.jobs.size < best.jobs.size)) best = thread;
    }
    if ((!best || best.jobs.size > 0) && this.threads.length < this.size) return this.startThread();
    return best;
  }

  private startThread(): Thread {
    const number = ++this.started;
    const worker = new Worker(this.workerScript, { name: `s3backer codec worker ${number}`, execArgv: WORKER_EXEC_ARGV });
    // Idle threads never hold the process open; send() refs a thread while it has jobs.
    worker.unref();
    const thread: Thread = { number, worker, jobs: new Map(), ready: false };
    this.threads.push(thread);
    worker.on('message', (message: FromWorker) => this.answer(thread, message));
    worker.on('error', (error) => { thread.error ??= error; });
    // A reply that cannot be deserialised leaves its job unanswerable: treat it as a crash.
    worker.on('messageerror', (error) => {
      thread.error ??= error;
      void worker.terminate();
    });
    worker.on('exit', (code) => this.ended(thread, code));
    for (const [codec, { module, init }] of this.codecs) this.post(thread, { kind: 'load', codec, module, init });
    return thread;
  }

  private send(thread: Thread, job: Job): void {
    thread.jobs.set(job.id, job);
    if (thread.jobs.size === 1) thread.worker.ref();
    try {
      thread.worker.postMessage({ kind: 'job', job: job.id, codec: job.codec, op: job.op, input: job.input } satisfies ToWorker, job.transfer as ArrayBuffer[]);
    } catch (error) {
      // An input that cannot be cloned or moved: that job's fault alone.
      this.settle(thread, job.id);
      job.reject(new CodecWorkerError('failed', `the "${job.op}" job could not be sent to a codec worker: ${error instanceof Error ? error.message : String(error)}`, { cause: error }));
    }
  }

  private answer(thread: Thread, message: FromWorker): void {
    if (message.kind === 'ready') {
      thread.ready = true;
      this.startFailures = 0;
      return;
    }
    const job = this.settle(thread, message.job);
    if (!job) return;
    if (message.kind === 'done') {
      job.resolve(message.value);
    } else {
      const cause = Object.assign(new Error(message.message), { stack: message.stack });
      const module = this.codecs.get(job.codec)?.module ?? 'the codec';
      job.reject(message.stage === 'load'
        ? new CodecWorkerError('unavailable', `${module} cannot run in codec worker ${thread.number}: ${message.message}`, { cause })
        : new CodecWorkerError('failed', `codec worker ${thread.number}: the "${job.op}" job failed: ${message.message}`, { cause }));
    }
    this.pump();
  }

  /** Take a job off its thread; unref the thread when it has no more. */
  private settle(thread: Thread, id: number): Job | undefined {
    const job = thread.jobs.get(id);
    if (!job) return undefined;
    thread.jobs.delete(id);
    if (thread.jobs.size === 0) thread.worker.unref();
    return job;
  }

  private ended(thread: Thread, code: number): void {
    const at = this.threads.indexOf(thread);
    if (at >= 0) this.threads.splice(at, 1);
    if (!thread.ready && !this.closed && ++this.startFailures >= START_FAILURES_BEFORE_GIVING_UP) {
      this.unavailable = new CodecWorkerError('unavailable',
        `codec worker threads cannot run here: ${this.startFailures} in a row ended before their script ran (the last ${thread.error === undefined ? `exited with code ${code}` : `failed: ${thread.error instanceof Error ? thread.error.message : String(thread.error)}`})`,
        { cause: thread.error });
      for (const job of this.queue.splice(0)) job.reject(this.unavailable);
    }
    if (thread.jobs.size > 0) {
      const count = thread.jobs.size;
      const why = thread.error === undefined ? `exited with code ${code}` : `died: ${thread.error instanceof Error ? thread.error.message : String(thread.error)}`;
      const error = this.closed
        ? new CodecWorkerError('closed', `the codec worker pool was closed while codec worker ${thread.number} held ${count} job(s)`)
        : this.unavailable ?? new CodecWorkerError('crashed', `codec worker ${thread.number} ${why} while it held ${count} job(s); those failed, and a new thread takes the jobs that follow`,
          { cause: thread.error });
      const jobs = [...thread.jobs.values()];
      thread.jobs.clear();
      for (const job of jobs) job.reject(error);
    }
    this.pump();
  }

  private post(thread: Thread, message: ToWorker): void {
    thread.worker.postMessage(message);
  }
}
