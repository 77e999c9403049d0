import { pbkdf2 } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);

/** The C tool's `PBKDF2_ITERATIONS` (http_io.c), for both derivations. */
export const PBKDF2_ITERATIONS = 5000;
/** The key derivation, as recorded in the key-check object. */
export const KDF_NAME = 'PBKDF2-HMAC-SHA1';

/** A volume's secrets: both `keyLength` bytes long (the C tool's `priv->key` and `priv->ivkey`). */
export interface VolumeKeys {
  /** Encrypts the blocks (its first cipher-key-length bytes) and keys their HMAC (all of it). */
  readonly key: Buffer;
  /** Encrypts block numbers into IVs (block-iv.ts). */
  readonly ivkey: Buffer;
}

/**
 * The PBKDF2 salt: `bucket + "/" + prefix` (http_io_init, http_io.c: `"%s/%s", config->bucket,
 * config->prefix`). The bucket is the name alone and the prefix already holds a subdirectory's
 * trailing slash, so `bucket/sub` and `--prefix=sub/` give the same salt, and a volume copied to
 * another bucket or prefix no longer authenticates with its password.
 */
export function encryptionSalt(bucket: string, prefix: string): string {
  return `${bucket}/${prefix}`;
}

/**
 * The C tool's two derivations (http_io_init, http_io.c):
 * `key = PBKDF2-HMAC-SHA1(password, salt, 5000, keyLength)` and
 * `ivkey = PBKDF2-HMAC-SHA1(key, key, 5000, keyLength)` (the raw key is password and salt).
 * 10000 SHA-1 rounds of PBKDF2 take milliseconds, so this runs asynchronously, at mount, off the
 * event loop's thread.
 */
export async function deriveKeys(password: string, salt: string, keyLength: number): Promise<VolumeKeys> {
  // The C tool hashes the password's bytes (strlen); Node encodes a string as UTF-8, as a terminal does.
  const key = await pbkdf2Async(password, salt, PBKDF2_ITERATIONS, keyLength, 'sha1');
  const ivkey = await pbkdf2Async(key, key, PBKDF2_ITERATIONS, keyLength, 'sha1');
  return { key, ivkey };
}
