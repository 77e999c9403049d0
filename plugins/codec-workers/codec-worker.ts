// The body of every codec worker thread: load codec modules when told, run their operations for
// each job, answer in order of completion. Nothing here knows a codec; a job that throws fails
// alone, and the thread goes on with the next one.
import { parentPort } from 'node:worker_threads';
import type { WorkerCodec, WorkerCodecModule, WorkerOps, WorkerReply } from './worker-codec.js';
import type { FromWorker, ToWorker } from './worker-messages.js';

type AnyCodec = WorkerCodec<WorkerOps>;

if (!parentPort) throw new Error('codec-worker.js runs as a worker thread started by CodecWorkerPool, not on its own');
const port = parentPort;

/** Loaded codecs; a promise while the module is still being imported (jobs sent meanwhile wait for it). */
const codecs = new Map<number, AnyCodec | Promise<AnyCodec>>();

port.postMessage({ kind: 'ready' } satisfies FromWorker);

port.on('message', (message: ToWorker) => {
  switch (message.kind) {
    case 'load': {
      const loading = import(message.module).then(async (module: WorkerCodecModule<unknown, WorkerOps>) => {
        if (typeof module.createWorkerCodec !== 'function') throw new Error(`${message.module} has no createWorkerCodec export`);
        const codec = await module.createWorkerCodec(message.init);
        // Unloaded while importing: do not bring it back.
        if (codecs.get(message.codec) === loading) codecs.set(message.codec, codec);
        return codec;
      });
      // Its jobs report the failure; this only keeps it from being an unhandled rejection.
      loading.catch(() => {});
      codecs.set(message.codec, loading);
      break;
    }
    case 'unload':
      codecs.delete(message.codec);
      break;
    case 'job': {
      const codec = codecs.get(message.codec);
      if (codec === undefined) fail(message.job, new Error(`codec ${message.codec} is not loaded in this worker`), 'load');
      else if (codec instanceof Promise) codec.then((loaded) => run(loaded, message), (error: unknown) => fail(message.job, error, 'load'));
      else run(codec, message);
      break;
    }
  }
});

function run(codec: AnyCodec, { job, op, input }: { job: number; op: string; input: unknown }): void {
  const operation = codec[op];
  if (typeof operation !== 'function') return fail(job, new Error(`the codec has no operation "${op}"`));
  let reply: WorkerReply<unknown> | Promise<WorkerReply<unknown>>;
  try {
    reply = operation(input);
  } catch (error) {
    return fail(job, error);
  }
  // Sync operations (the usual case) answer without a trip through the microtask queue.
  if (reply instanceof Promise) reply.then((settled) => done(job, settled), (error: unknown) => fail(job, error));
  else done(job, reply);
}

function done(job: number, reply: WorkerReply<unknown>): void {
  try {
    port.postMessage({ kind: 'done', job, value: reply.value } satisfies FromWorker, reply.transfer as ArrayBuffer[] | undefined);
  } catch (error) {
    // A value that cannot be cloned, or a transfer list that cannot be moved: the job's fault.
    fail(job, new Error(`the result could not be sent back: ${error instanceof Error ? error.message : String(error)}`));
  }
}

function fail(job: number, error: unknown, stage: 'load' | 'run' = 'run'): void {
  const message = error instanceof Error ? error.message : String(error);
  port.postMessage({ kind: 'failed', job, stage, message, stack: error instanceof Error ? error.stack : undefined } satisfies FromWorker);
}
