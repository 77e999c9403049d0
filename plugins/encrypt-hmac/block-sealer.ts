import type { CipherSpec } from './cipher-name.js';
import type { VolumeKeys } from './derive-keys.js';
import { BlockCrypt } from './block-crypt.js';
import { blockHmac, hmacMatches } from './block-hmac.js';

/** A block as stored: the ciphertext and its signature (the `s3backer-hmac` digest). */
export interface SealedBlock {
  readonly body: Buffer;
  readonly hmac: Buffer;
}

/** A stored body opened: the plaintext, or which check refused it (the plugin words the error). */
export type OpenedBlock =
  | { readonly ok: true; readonly body: Buffer }
  /** The HMAC does not match: tampered, another block's object, another password. */
  | { readonly ok: false; readonly failure: 'signature' }
  /** The HMAC matches but the body is not whole cipher blocks or its padding is wrong: a faulty writer. */
  | { readonly ok: false; readonly failure: 'decrypt'; readonly reason: string };

/**
 * A volume's encrypt-then-MAC, both ways, as the C tool does it (http_io_write_block and
 * http_io_read_block, http_io.c): CBC-encrypt the (compressed) block then HMAC the ciphertext; on
 * read, verify the HMAC before decrypting anything. All synchronous CPU work, so the same object
 * serves the main thread and the codec worker threads (block-sealer-worker.ts).
 */
export class BlockSealer {
  readonly crypt: BlockCrypt;

  constructor(readonly cipher: CipherSpec, private readonly keys: VolumeKeys) {
    this.crypt = new BlockCrypt(cipher, keys);
  }

  seal(block: number, data: Buffer): SealedBlock {
    const body = this.crypt.encrypt(block, data);
    return { body, hmac: this.sign(block, body) };
  }

  /** `seal` of data followed by room for its padding (BlockCrypt.encryptPadded). */
  sealPadded(block: number, padded: Buffer, dataLength: number): SealedBlock {
    const body = this.crypt.encryptPadded(block, padded, dataLength);
    return { body, hmac: this.sign(block, body) };
  }

  /** Verify `stored` (the digest the object's metadata holds) over `body`, then decrypt it. */
  open(block: number, body: Buffer, stored: Buffer): OpenedBlock {
    if (!hmacMatches(stored, this.sign(block, body))) return { ok: false, failure: 'signature' };
    try {
      return { ok: true, body: this.crypt.decrypt(block, body) };
    } catch (error) {
      return { ok: false, failure: 'decrypt', reason: error instanceof Error ? error.message : String(error) };
    }
  }

  private sign(block: number, body: Buffer): Buffer {
    return blockHmac(this.keys.key, this.cipher.name, block, body);
  }
}
