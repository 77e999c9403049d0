/**
 * Why a job sent to a codec worker did not come back with a result.
 *
 * - `crashed`: the worker thread running it exited or threw outside any job (an uncaught
 *   exception, `process.exit` in the worker, out of memory). Only the jobs that thread held fail;
 *   the pool starts a new thread for the rest.
 * - `closed`: the pool was closed, or the codec unloaded, before the job ran.
 * - `failed`: the codec's own function threw in the worker (or its module would not load); the
 *   message is the worker's.
 * - `unavailable`: threads cannot start in this process (several died in a row before answering
 *   anything); every job fails so, at once, until the pool is closed.
 *
 * Not an S3BackerError: the pool knows threads and jobs, not blocks. The codec plugin that sent
 * the job decides what its caller sees (the encrypt plugin redoes the block on the main thread).
 */
export class CodecWorkerError extends Error {
  constructor(readonly kind: 'crashed' | 'closed' | 'failed' | 'unavailable', message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CodecWorkerError';
  }
}

export function isCodecWorkerError(error: unknown): error is CodecWorkerError {
  return error instanceof CodecWorkerError;
}
