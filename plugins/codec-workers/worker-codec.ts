/**
 * The contract between a codec plugin and the codec worker threads.
 *
 * A codec that wants its work off the main thread puts it in a module of its own whose export
 * `createWorkerCodec(init)` returns one function per operation. Each worker imports that module
 * once and calls `createWorkerCodec` once per `CodecWorkerPool.load()` (per mount: this is where
 * key material arrives, not with every job), then calls the operations for each job.
 *
 * `Ops` names the operations and their input and output types: `{ seal: [SealInput, SealOutput] }`.
 * Inputs and outputs cross threads by structured clone, so they are plain data: ArrayBuffers,
 * typed arrays, numbers, strings, plain objects (a Buffer arrives as a Uint8Array).
 */
export type WorkerOps = Record<string, readonly [input: unknown, output: unknown]>;

/**
 * What an operation returns: the value, and the ArrayBuffers to move to the main thread instead of
 * copying them. A transferred ArrayBuffer is detached in the worker, so list only buffers the
 * operation made for this result (never one it keeps, never Node's shared pool of small Buffers).
 */
export interface WorkerReply<T> {
  readonly value: T;
  readonly transfer?: readonly ArrayBuffer[];
}

/** The functions a worker-side codec module provides, one per operation; they may be async. */
export type WorkerCodec<Ops extends WorkerOps> = {
  readonly [Op in keyof Ops]: (input: Ops[Op][0]) => WorkerReply<Ops[Op][1]> | Promise<WorkerReply<Ops[Op][1]>>;
};

/** The shape of a worker-side codec module (`import(url)` in the worker). */
export interface WorkerCodecModule<Init, Ops extends WorkerOps> {
  /** May be async (a native library loaded with `import()`); jobs sent meanwhile wait for it. */
  createWorkerCodec(init: Init): WorkerCodec<Ops> | Promise<WorkerCodec<Ops>>;
}
