// The encrypt plugin's module for the codec worker threads (plugins/codec-workers): a
// BlockSealer per mount, keyed once by `createWorkerCodec`, then seal and open per block. Bytes
// arrive and leave as ArrayBuffers of their own, moved, not copied (transferable-buffer.ts).
import type { WorkerCodec } from '../codec-workers/worker-codec.js';
import { movedBytes, viewOf, type MovedBytes } from '../codec-workers/transferable-buffer.js';
import type { CipherSpec } from './cipher-name.js';
import { BlockSealer } from './block-sealer.js';

/** Sent once per mount and thread: the volume's cipher and keys. */
export interface SealerInit {
  readonly cipher: CipherSpec;
  readonly key: Uint8Array;
  readonly ivkey: Uint8Array;
}

export type OpenReply = (
  | { readonly ok: true; readonly body: MovedBytes }
  | { readonly ok: false; readonly failure: 'signature' }
  | { readonly ok: false; readonly failure: 'decrypt'; readonly reason: string }
) & Spare;

/** The input's ArrayBuffer, sent back once the job has read it, to carry a later job's bytes (SpareBuffers). */
interface Spare {
  readonly spare: ArrayBuffer;
}

export type SealerOps = {
  /** `padded`: the data plus room for its PKCS#7 padding (BlockCrypt.encryptPadded). */
  seal: [input: { block: number; padded: MovedBytes; dataLength: number }, output: { body: MovedBytes; hmac: Uint8Array } & Spare];
  /** `hmac`: the digest the object's metadata holds. */
  open: [input: { block: number; body: MovedBytes; hmac: Uint8Array }, output: OpenReply];
};

const asBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

export function createWorkerCodec(init: SealerInit): WorkerCodec<SealerOps> {
  const sealer = new BlockSealer(init.cipher, { key: asBuffer(init.key), ivkey: asBuffer(init.ivkey) });
  return {
    seal({ block, padded, dataLength }) {
      const { body, hmac } = sealer.sealPadded(block, viewOf(padded), dataLength);
      // The cipher's output is a buffer of its own (an ArrayBuffer of exactly its length): move it.
      const moved = movedBytes(body, true);
      return { value: { body: moved, hmac, spare: padded.buffer }, transfer: [moved.buffer, padded.buffer] };
    },
    open({ block, body, hmac }) {
      const opened = sealer.open(block, viewOf(body), asBuffer(hmac));
      if (!opened.ok) return { value: { ...opened, spare: body.buffer }, transfer: [body.buffer] };
      // The plaintext is a view of the decipher's output without the padding: that output is ours.
      const moved = movedBytes(opened.body, true);
      return { value: { ok: true, body: moved, spare: body.buffer }, transfer: [moved.buffer, body.buffer] };
    },
  };
}
