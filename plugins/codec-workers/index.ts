// Worker threads for codec work that would otherwise run on the main thread; see README.md.
export { CodecWorkerPool, defaultCodecWorkers, MAX_DEFAULT_CODEC_WORKERS, type CodecWorkerPoolOptions, type WorkerCodecHandle } from './codec-worker-pool.js';
export { acquireSharedCodecWorkerPool, type CodecWorkerPoolLease } from './shared-codec-worker-pool.js';
export { CodecWorkerError, isCodecWorkerError } from './codec-worker-error.js';
export { OffloadedCodec, type OffloadedCodecOptions } from './offloaded-codec.js';
export { SpareBuffers, capacityFor } from './spare-buffers.js';
export { transferableCopy, movedBytes, viewOf, type MovedBytes } from './transferable-buffer.js';
export type { WorkerCodec, WorkerCodecModule, WorkerOps, WorkerReply } from './worker-codec.js';
