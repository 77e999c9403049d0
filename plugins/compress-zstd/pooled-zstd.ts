import type { CodecWorkerPool } from '../codec-workers/codec-worker-pool.js';
import { OffloadedCodec } from '../codec-workers/offloaded-codec.js';
import { viewOf } from '../codec-workers/transferable-buffer.js';
import { SpareBuffers } from '../codec-workers/spare-buffers.js';
import type { ZstdLibrary } from './zstd-library.js';
import type { ZstdOps } from './zstd-napi-worker.js';

const WORKER_MODULE = new URL('./zstd-napi-worker.js', import.meta.url);

/**
 * Blocks of at least this many bytes are compressed or decompressed in a codec worker thread;
 * smaller ones on the main thread, where the hop would cost more than it saves.
 *
 * Measured through the object pipeline (memory store, 20 blocks in flight, 2 threads with 2 jobs
 * each, level 3, the benchmark's mixed data) on the project's 2-vCPU VM, medians of the runs no
 * other process disturbed, MB/s main thread / threads:
 *
 * | block  | compress (write)  | decompress (read)   |
 * |--------|-------------------|---------------------|
 * | 16 KiB | 203–257 / 205–216 | 704–761 / 315–373   |
 * | 32 KiB | 288–298 / 312–326 | 870–909 / 641–704   |
 * | 64 KiB | 310–314 / 412–484 | 1121–1143 / 959–1003 |
 * | 128 KiB| 312–324 / 469–507 | 1201 / 1093–1263    |
 * | 256 KiB| 296–300 / 466–499 | 1233–1342 / 1490–1576 |
 * | 1 MiB  | 313–321 / 496–548 | 1020–1107 / 1224–1350 |
 *
 * Compressing costs ~3.3 µs per KiB, so from 32 KiB on the work outweighs the hop (25–45 µs of
 * the main thread's time a job, as much again in the thread). Decompressing is four times faster
 * and its bytes to copy are the same, so it gains only from 256 KiB on.
 */
export const ZSTD_WORKER_MIN_BYTES: { readonly compress: number; readonly decompress: number } = { compress: 32 * 1024, decompress: 128 * 1024 };

/**
 * `library` (zstd-napi, synchronous) with the blocks that pay for the hop compressed and
 * decompressed in the codec worker threads, each with its own zstd contexts. The decision is by
 * block size (the data compressed, the limit decompressed into): zstd's time follows the
 * plaintext, not the frame. Bytes to a thread are copied first (the caller's are not ours to
 * detach), into a buffer a thread sent back after an earlier job (SpareBuffers); results come
 * back moved.
 */
export function pooledZstd(library: ZstdLibrary, pool: CodecWorkerPool, options: {
  /** Per direction or both (default ZSTD_WORKER_MIN_BYTES). */
  minBytes?: number | { readonly compress: number; readonly decompress: number };
  warn?: (message: string) => void;
} = {}): { library: ZstdLibrary; close(): void } {
  const minBytes = options.minBytes ?? ZSTD_WORKER_MIN_BYTES;
  const offload = new OffloadedCodec<ZstdOps>(pool, WORKER_MODULE, null, {
    minBytes: typeof minBytes === 'number' ? { compress: minBytes, decompress: minBytes } : minBytes, warn: options.warn,
  });
  const spares = new SpareBuffers();
  return {
    library: {
      description: `${library.description}, in the codec worker threads`,
      synchronous: false,
      levels: library.levels,
      async compress(data, level) {
        if (!offload.offloads('compress', data.length)) return library.compress(data, level);
        const buffer = spares.copy(data).buffer as ArrayBuffer;
        return offload.run('compress', { data: { buffer, length: data.length }, level }, [buffer], {
          done: ({ frame, spare }) => {
            spares.give(spare);
            return viewOf(frame);
          }, redo: () => library.compress(data, level), what: `compressing ${data.length} bytes with zstd`,
        });
      },
      async decompress(body, limit) {
        if (!offload.offloads('decompress', limit)) return library.decompress(body, limit);
        const buffer = spares.copy(body).buffer as ArrayBuffer;
        return offload.run('decompress', { body: { buffer, length: body.length }, limit }, [buffer], {
          done: ({ data, spare }) => {
            spares.give(spare);
            return viewOf(data);
          }, redo: () => library.decompress(body, limit), what: `decompressing a ${body.length}-byte zstd frame`,
        });
      },
    },
    close: () => offload.close(),
  };
}
