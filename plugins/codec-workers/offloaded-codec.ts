import type { CodecWorkerPool, WorkerCodecHandle } from './codec-worker-pool.js';
import { isCodecWorkerError } from './codec-worker-error.js';
import type { WorkerOps } from './worker-codec.js';

export interface OffloadedCodecOptions<Ops extends WorkerOps> {
  /**
   * Per operation, jobs of at least this many bytes go to the threads, smaller ones are done on
   * the main thread; an operation not listed always runs on the main thread. Per operation
   * because the two directions of a codec gain differently (decrypting parallelises inside one
   * core where encrypting with CBC cannot, so the second core adds less to it).
   */
  readonly minBytes: { readonly [Op in keyof Ops]?: number };
  /** Told once per distinct pool failure that a job was done on the main thread instead. */
  readonly warn?: ((message: string) => void) | undefined;
}

/**
 * One codec's side of the pool, for one mount: loads the codec's worker module into the threads
 * (its init, the key material, travels once), says which jobs are big enough to pay for the hop,
 * and keeps every job's outcome the same as on the main thread:
 *
 * - the thread's result (`done` maps it);
 * - when the pool could not complete the job (its thread crashed, the pool closed, the codec
 *   cannot run in the threads) the job is done again by `redo`, on the main thread, from the
 *   caller's bytes, which the job never touched; after `unavailable` no more jobs are sent;
 * - when the operation itself threw (`failed`: a corrupt frame), the worker's error is thrown, as
 *   the main thread's call would have thrown it.
 */
export class OffloadedCodec<Ops extends WorkerOps> {
  private readonly handle: WorkerCodecHandle<Ops> | undefined;
  private readonly reported = new WeakSet<object>();
  private threadless = false;

  /** `pool` undefined: everything on the main thread. */
  constructor(private readonly pool: CodecWorkerPool | undefined, module: URL, init: unknown, private readonly options: OffloadedCodecOptions<Ops>) {
    this.handle = pool?.load<unknown, Ops>(module, init);
  }

  /** Whether an `op` job of `bytes` bytes goes to the threads. */
  offloads(op: keyof Ops & string, bytes: number): boolean {
    return this.handle !== undefined && !this.threadless && bytes >= (this.options.minBytes[op] ?? Infinity);
  }

  async run<Op extends keyof Ops & string, R>(op: Op, input: Ops[Op][0], transfer: readonly ArrayBuffer[], how: {
    readonly done: (output: Ops[Op][1]) => R;
    readonly redo: () => R | Promise<R>;
    /** For the warning: "encrypting block 3". */
    readonly what: string;
  }): Promise<R> {
    let output: Ops[Op][1];
    try {
      output = await this.pool!.run(this.handle!, op, input, transfer);
    } catch (error) {
      if (!isCodecWorkerError(error)) throw error;
      if (error.kind === 'failed') throw error.cause ?? error;
      if (error.kind === 'unavailable') this.threadless = true;
      if (!this.reported.has(error)) {
        this.reported.add(error);
        this.options.warn?.(`${how.what} in a worker thread failed (${error.message}); done on the main thread instead${error.kind === 'unavailable' ? ', as every job of this mount will be' : ''}`);
      }
      return how.redo();
    }
    return how.done(output);
  }

  /** Forget the codec (and its key material) in the threads; jobs still queued fail back to `redo`. */
  close(): void {
    if (this.handle) this.pool!.unload(this.handle);
  }
}
