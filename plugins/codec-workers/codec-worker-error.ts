/**
 * Why a job sent to a codec worker did not come back with a result.
 *
 * - `crashed`: the worker thread running it exited or threw outside any job (an uncaught
 *   exception, `process.exit` in the worker, out of memory). Only the jobs that thread held fail;
 *   the pool starts a new thread for the rest.
 * - `closed`: the pool was closed, or the codec unloaded, before the job ran.
 * - `failed`: the operation threw on this input in the worker (a corrupt frame); `cause` carries
 *   the worker's error message and stack.
 * - `unavailable`: the codec cannot run in the threads: its module would not load there, or
 *   threads cannot start in this process at all (several died in a row before their script ran;
 *   every job then fails so, at once, until the pool is closed).
 *
 * Not an S3BackerError: the pool knows threads and jobs, not blocks. The codec plugin that sent
 * the job decides what its caller sees: OffloadedCodec redoes the job on the main thread for every
 * kind but `failed`, which is the input's fault and would fail there too.
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
