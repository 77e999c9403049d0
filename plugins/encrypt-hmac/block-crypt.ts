import { createCipheriv, createDecipheriv } from 'node:crypto';
import type { CipherSpec } from './cipher-name.js';
import type { VolumeKeys } from './derive-keys.js';
import { BlockIvs } from './block-iv.js';

/**
 * One block's CBC encryption and decryption under a volume's keys (http_io_crypt, http_io.c):
 * PKCS#7 padding, key = the derived key, IV = the block's IV (block-iv.ts). When `--keyLength` is
 * longer than the cipher's key, the cipher uses the key's first cipher-key-length bytes, as
 * OpenSSL's EVP_CipherInit_ex does with the C tool's longer buffer.
 */
export class BlockCrypt {
  private readonly ivs: BlockIvs;
  private readonly cipherKey: Buffer;

  constructor(private readonly cipher: CipherSpec, keys: VolumeKeys) {
    this.ivs = new BlockIvs(cipher, keys.ivkey);
    this.cipherKey = Buffer.from(keys.key.subarray(0, cipher.keyLength));
  }

  /** Encrypt a block's (already compressed) bytes (http_io_crypt with enc = 1). */
  encrypt(block: number, data: Buffer): Buffer {
    const encrypt = createCipheriv(this.cipher.nodeName, this.cipherKey, this.ivs.iv(block));
    const head = encrypt.update(data);
    const tail = encrypt.final();
    return tail.length === 0 ? head : Buffer.concat([head, tail], head.length + tail.length);
  }

  /** Bytes of PKCS#7 padding `encrypt` appends to `length` bytes: 1 to the cipher's block size, never 0. */
  padding(length: number): number {
    return this.cipher.blockSize - (length % this.cipher.blockSize);
  }

  /**
   * `encrypt` of `padded`: the data followed by `padding(data length)` bytes that this fills with
   * the PKCS#7 pad. OpenSSL then pads nothing, so update() returns the whole body in one buffer,
   * without the copy that joins update() and final(); same bytes as `encrypt`. For a caller that
   * copies the data anyway (to move it to a worker thread) and can leave room for the pad.
   */
  encryptPadded(block: number, padded: Buffer, dataLength: number): Buffer {
    const pad = padded.length - dataLength;
    if (pad !== this.padding(dataLength)) throw new RangeError(`${padded.length} bytes hold ${dataLength} bytes of data and ${pad} of padding; PKCS#7 pads them with ${this.padding(dataLength)}`);
    padded.fill(pad, dataLength);
    const encrypt = createCipheriv(this.cipher.nodeName, this.cipherKey, this.ivs.iv(block));
    encrypt.setAutoPadding(false);
    return encrypt.update(padded);
  }

  /**
   * The inverse (http_io_crypt with enc = 0). Throws on a body that is not whole blocks or whose
   * padding is wrong. The padding is checked and cut here rather than by OpenSSL, so the result is
   * a view of the one output buffer instead of a copy joining update() and final(): the checks are
   * EVP_DecryptFinal_ex's (last byte n, 1 <= n <= block size, the last n bytes all n). The HMAC was
   * verified before this runs (encrypt-then-MAC), so a padding error reveals nothing to a forger.
   */
  decrypt(block: number, body: Buffer): Buffer {
    const { blockSize } = this.cipher;
    if (body.length === 0 || body.length % blockSize !== 0) throw new Error(`the body is ${body.length} bytes, not a whole number of ${blockSize}-byte cipher blocks`);
    const decrypt = createDecipheriv(this.cipher.nodeName, this.cipherKey, this.ivs.iv(block));
    decrypt.setAutoPadding(false);
    const plain = decrypt.update(body);
    const pad = plain[plain.length - 1]!;
    let bad = pad === 0 || pad > blockSize ? 1 : 0;
    for (let i = plain.length - Math.min(pad, blockSize); i < plain.length; i++) bad |= plain[i]! ^ pad;
    if (bad !== 0) throw new Error('bad decrypt: the PKCS#7 padding is wrong');
    return plain.subarray(0, plain.length - pad);
  }
}

/** `BlockCrypt.encrypt` for one block, without keeping the context (tests, tools). */
export function encryptBlock(cipher: CipherSpec, keys: VolumeKeys, block: number, data: Buffer): Buffer {
  return new BlockCrypt(cipher, keys).encrypt(block, data);
}

/** `BlockCrypt.decrypt` for one block, without keeping the context (tests, tools). */
export function decryptBlock(cipher: CipherSpec, keys: VolumeKeys, block: number, body: Buffer): Buffer {
  return new BlockCrypt(cipher, keys).decrypt(block, body);
}
