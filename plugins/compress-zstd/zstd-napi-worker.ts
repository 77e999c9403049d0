// The zstd plugin's module for the codec worker threads (plugins/codec-workers): zstd-napi's
// calls as zstd-napi-library.ts makes them, with the thread's own contexts. Bytes arrive and leave
// as ArrayBuffers of their own, moved, not copied (transferable-buffer.ts).
import type { WorkerCodec } from '../codec-workers/worker-codec.js';
import { movedBytes, viewOf, type MovedBytes } from '../codec-workers/transferable-buffer.js';
import { zstdNapiBinding } from './zstd-napi-library.js';

/** `spare`: the input's ArrayBuffer, sent back once read, to carry a later job's bytes (SpareBuffers). */
export type ZstdOps = {
  compress: [input: { data: MovedBytes; level: number }, output: { frame: MovedBytes; spare: ArrayBuffer }];
  /** `limit`: the most bytes the frame may decompress to (the block size). */
  decompress: [input: { body: MovedBytes; limit: number }, output: { data: MovedBytes; spare: ArrayBuffer }];
};

export async function createWorkerCodec(): Promise<WorkerCodec<ZstdOps>> {
  const binding = await zstdNapiBinding();
  // One context each, reused: a thread runs one job at a time.
  const cctx = new binding.CCtx();
  const dctx = new binding.DCtx();
  let scratch = Buffer.alloc(0);
  return {
    compress({ data, level }) {
      const bound = binding.compressBound(data.length);
      if (scratch.length < bound) scratch = Buffer.allocUnsafeSlow(bound);
      const length = cctx.compress(scratch, viewOf(data), level);
      // Copied out (in this thread) into a buffer of its own: the scratch buffer stays here.
      const moved = movedBytes(scratch.subarray(0, length), false);
      return { value: { frame: moved, spare: data.buffer }, transfer: [moved.buffer, data.buffer] };
    },
    decompress({ body, limit }) {
      const out = Buffer.allocUnsafeSlow(limit);
      const length = dctx.decompress(out, viewOf(body));
      const moved = movedBytes(out.subarray(0, length), true);
      return { value: { data: moved, spare: body.buffer }, transfer: [moved.buffer, body.buffer] };
    },
  };
}
