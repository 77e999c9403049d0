import type { CodecWorkerPool } from '../codec-workers/codec-worker-pool.js';
import { OffloadedCodec } from '../codec-workers/offloaded-codec.js';
import { viewOf } from '../codec-workers/transferable-buffer.js';
import { SpareBuffers } from '../codec-workers/spare-buffers.js';
import type { CipherSpec } from './cipher-name.js';
import type { VolumeKeys } from './derive-keys.js';
import { BlockSealer, type OpenedBlock, type SealedBlock } from './block-sealer.js';
import type { SealerInit, SealerOps } from './block-sealer-worker.js';

const WORKER_MODULE = new URL('./block-sealer-worker.js', import.meta.url);

/**
 * Bodies of at least this many bytes are sealed (encrypted + signed) or opened (verified +
 * decrypted) in a codec worker thread; shorter ones on the main thread, where the hop would cost
 * more than it saves.
 *
 * Measured through the object pipeline (memory store, 20 blocks in flight, 2 threads with 2 jobs
 * each) on the project's 2-vCPU VM, AES-128-CBC, medians of the runs no other process disturbed,
 * MB/s main thread / threads:
 *
 * | block  | seal (write)      | open (read)       |
 * |--------|-------------------|-------------------|
 * | 16 KiB | 354 / 269–286     | 534 / 239–356     |
 * | 64 KiB | 482 / 457–509     | 805–809 / 664–714 |
 * | 128 KiB| 497–545 / 680–709 | 885–893 / 890–960 |
 * | 256 KiB| 555–571 / 729–774 | 976 / 958–1130    |
 * | 1 MiB  | 538–539 / 740–806 | 791–1025 / 953–1053 |
 *
 * The hop costs the main thread 25–45 µs a job (postMessage both ways, the copy in) and the
 * thread as much again, against ~20 µs of AES + HMAC for 4 KiB and 70–120 µs for 64 KiB. And this
 * VM's second vCPU adds little to this work: one process opens 64 KiB bodies at 958 MB/s, two at
 * once 634 + 641 (1.33×). Sealing gains more than opening because CBC encryption is one serial
 * chain of AES rounds per block, which leaves the core idle enough for the other thread, while
 * decryption and SHA-1 keep it busy. So sealing moves from 128 KiB (+30% there), opening from
 * 256 KiB, where it is level with the main thread or ahead, and where a body on the main thread
 * would hold the event loop for 250 µs or more.
 */
export const WORKER_MIN_BYTES: { readonly seal: number; readonly open: number } = { seal: 128 * 1024, open: 256 * 1024 };

/**
 * A mount's BlockSealer, with the work of big bodies moved to the codec worker threads, so the
 * AES + HMAC of several blocks runs on several cores and the main thread stays free for the
 * pipeline. The key material goes to the threads once, when this is made.
 *
 * Bytes to a thread are copied first: a codec tap must neither keep nor change the body it is
 * handed, so it cannot detach it. The copy goes into a buffer a thread sent back after an earlier
 * job (SpareBuffers), so it costs a memcpy, not a fresh allocation. The results come back moved,
 * without a copy.
 *
 * A job that the pool cannot complete (its thread crashed, the pool closed under it) is done
 * again here on the main thread, from the caller's bytes, which the job never touched: the reader
 * or writer sees the same result either way, and the log says what happened (OffloadedCodec).
 */
export class PooledBlockSealer {
  readonly sync: BlockSealer;
  private readonly offload: OffloadedCodec<SealerOps>;
  private readonly spares = new SpareBuffers();

  constructor(cipher: CipherSpec, keys: VolumeKeys, pool: CodecWorkerPool | undefined, options: {
    /** Bodies of at least this many bytes go to a worker, per direction or both (default WORKER_MIN_BYTES). */
    readonly minBytes?: number | { readonly seal: number; readonly open: number };
    /** Told once per distinct pool failure that a job was redone on the main thread. */
    readonly warn?: (message: string) => void;
  } = {}) {
    this.sync = new BlockSealer(cipher, keys);
    const minBytes = options.minBytes ?? WORKER_MIN_BYTES;
    this.offload = new OffloadedCodec<SealerOps>(pool, WORKER_MODULE, { cipher, key: keys.key, ivkey: keys.ivkey } satisfies SealerInit,
      { minBytes: typeof minBytes === 'number' ? { seal: minBytes, open: minBytes } : minBytes, warn: options.warn });
  }

  async seal(block: number, data: Buffer): Promise<SealedBlock> {
    if (!this.offload.offloads('seal', data.length)) return this.sync.seal(block, data);
    const padded = this.spares.copy(data, this.sync.crypt.padding(data.length));
    const buffer = padded.buffer as ArrayBuffer;
    return this.offload.run('seal', { block, padded: { buffer, length: padded.length }, dataLength: data.length }, [buffer], {
      done: (sealed) => {
        this.spares.give(sealed.spare);
        return { body: viewOf(sealed.body), hmac: Buffer.from(sealed.hmac.buffer, sealed.hmac.byteOffset, sealed.hmac.byteLength) };
      },
      redo: () => this.sync.seal(block, data),
      what: `encrypting block ${block}`,
    });
  }

  async open(block: number, body: Buffer, hmac: Buffer): Promise<OpenedBlock> {
    if (!this.offload.offloads('open', body.length)) return this.sync.open(block, body, hmac);
    const buffer = this.spares.copy(body).buffer as ArrayBuffer;
    // hmac: 20 bytes, copied into a Uint8Array of their own (a parsed digest is a slice of Node's
    // 8 KiB Buffer pool, and a view is cloned with its whole ArrayBuffer).
    return this.offload.run('open', { block, body: { buffer, length: body.length }, hmac: new Uint8Array(hmac) }, [buffer], {
      done: (opened): OpenedBlock => {
        this.spares.give(opened.spare);
        if (opened.ok) return { ok: true, body: viewOf(opened.body) };
        return opened.failure === 'signature' ? { ok: false, failure: 'signature' } : { ok: false, failure: 'decrypt', reason: opened.reason };
      },
      redo: () => this.sync.open(block, body, hmac),
      what: `decrypting block ${block}`,
    });
  }

  /** Forget the keys in the worker threads (at unmount). */
  close(): void {
    this.offload.close();
  }
}
