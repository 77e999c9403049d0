import { createCipheriv, createDecipheriv, getCipherInfo, getCiphers } from 'node:crypto';
import { S3BackerError } from 's3backer';

/** The C tool's default (`S3BACKER_DEFAULT_ENCRYPTION`, s3b_config.c): what a bare `--encrypt` means. */
export const DEFAULT_CIPHER = 'AES-128-CBC';

/**
 * The C tool's key buffers are `u_char key[EVP_MAX_KEY_LENGTH]` (64 bytes, http_io.c) and
 * s3b_config.c refuses a larger `--keyLength`, so no volume can have a longer key.
 */
export const MAX_KEY_LENGTH = 64;

/** A cipher the C tool's format can use, with the facts the format depends on. */
export interface CipherSpec {
  /**
   * The canonical name: the upper-cased OpenSSL long name ("AES-128-CBC"), which for every cipher
   * accepted here is the OpenSSL short name that the C tool's `EVP_CIPHER_name()` returns. It is
   * both the Content-Encoding suffix and the name fed to the HMAC (http_io_authsig), so it must be
   * this exact spelling.
   */
  readonly name: string;
  /** The name Node's createCipheriv takes. */
  readonly nodeName: string;
  /** The cipher's own key length: the first this many bytes of the derived key key the cipher. */
  readonly keyLength: number;
  readonly blockSize: number;
  readonly ivLength: number;
}

/**
 * The cipher `name` (any OpenSSL name or alias, any case) as the C format uses it, or why not.
 *
 * The C rule (http_io_init in http_io.c): `block_size > 1 && block_size == iv_length`, which
 * leaves the CBC block ciphers (ECB has no IV; CTR, CFB, OFB, GCM and stream ciphers have block
 * size 1). Beyond it, the cipher must actually work here, and behave as plain CBC with PKCS#7
 * padding: OpenSSL's "stitched" AES-CBC-HMAC-SHA* TLS ciphers pass the C rule but are AEAD
 * ciphers that do not pad, and legacy ciphers (Blowfish, CAST5, DES, IDEA, RC2, SEED) that
 * Node's OpenSSL 3 reports but cannot load would only fail later.
 *
 * Canonicalising matters: the C tool writes Content-Encoding `encrypt-` + the upper-cased
 * `--encrypt` value but HMACs and compares with `EVP_CIPHER_name()`, so even the C tool cannot
 * read back what it wrote under an alias ("--encrypt=aes128" stores "encrypt-AES128" and then
 * refuses it as "AES-128-CBC"); writing the canonical name always gives objects it can read.
 */
export function describeCipher(name: string): CipherSpec | string {
  const info = getCipherInfo(name);
  if (!info) return 'OpenSSL does not know it';
  const blockSize = info.blockSize ?? 1;
  const ivLength = info.ivLength ?? 0;
  if (blockSize <= 1 || blockSize !== ivLength) {
    return `it is not a block cipher in CBC mode (${info.mode} mode, block size ${blockSize}, IV length ${ivLength}); the C tool's format pads and chains blocks, and accepts only ciphers whose block size is larger than 1 and equal to their IV length`;
  }
  const spec: CipherSpec = { name: info.name.toUpperCase(), nodeName: info.name, keyLength: info.keyLength, blockSize, ivLength };
  const problem = selfTest(spec);
  return problem === undefined ? spec : problem;
}

/** Every canonical cipher name this machine accepts, sorted: what an error message offers instead. */
export function acceptedCipherNames(): string[] {
  if (!accepted) {
    const names = new Set<string>();
    for (const name of getCiphers()) {
      const spec = describeCipher(name);
      if (typeof spec !== 'string') names.add(spec.name);
    }
    accepted = [...names].sort();
  }
  return accepted;
}
let accepted: string[] | undefined;

/** `describeCipher` for the plugin factory: the spec, or S3B_CONFIG_INVALID naming what is accepted. */
export function resolveCipher(name: string): CipherSpec {
  const spec = typeof name === 'string' && name.trim() !== '' ? describeCipher(name.trim()) : 'the name is empty';
  if (typeof spec !== 'string') return spec;
  throw new S3BackerError('S3B_CONFIG_INVALID',
    `cannot encrypt with cipher "${String(name)}": ${spec}; use one of ${acceptedCipherNames().join(', ')} (--encrypt alone means ${DEFAULT_CIPHER})`);
}

/**
 * The key length the volume's keys are derived with: the cipher's own, or the C tool's
 * `--keyLength` (kept for volumes of s3backer <= 1.3.5, which derived longer keys). 0 means "not
 * given", as in the C tool (`config->key_length > 0 ? ... : cipher_key_len`).
 */
export function resolveKeyLength(cipher: CipherSpec, keyLength: number | undefined): number {
  if (keyLength === undefined || keyLength === 0) return cipher.keyLength;
  if (!Number.isInteger(keyLength) || keyLength < cipher.keyLength || keyLength > MAX_KEY_LENGTH) {
    throw new S3BackerError('S3B_CONFIG_INVALID',
      `--keyLength=${keyLength} is out of range for ${cipher.name}: it must be a whole number of bytes from the cipher's key length ${cipher.keyLength} to ${MAX_KEY_LENGTH}; leave it out to use ${cipher.keyLength}`);
  }
  return keyLength;
}

/** One padded block out and back: catches ciphers that cannot load or that do not pad like CBC. */
function selfTest(spec: CipherSpec): string | undefined {
  try {
    const key = Buffer.alloc(spec.keyLength, 1);
    const iv = Buffer.alloc(spec.ivLength, 2);
    const plain = Buffer.alloc(spec.blockSize, 3);
    const encrypt = createCipheriv(spec.nodeName, key, iv);
    const sealed = Buffer.concat([encrypt.update(plain), encrypt.final()]);
    if (sealed.length !== 2 * spec.blockSize) return 'it does not pad like a CBC block cipher (an AEAD or TLS cipher)';
    const decrypt = createDecipheriv(spec.nodeName, key, iv);
    if (!Buffer.concat([decrypt.update(sealed), decrypt.final()]).equals(plain)) return 'it does not decrypt what it encrypted';
    return undefined;
  } catch (error) {
    return `this Node.js's OpenSSL cannot use it (${error instanceof Error ? error.message : String(error)})`;
  }
}
