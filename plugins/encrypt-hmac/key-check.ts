import { createHmac } from 'node:crypto';
import type { ObjectStore } from 's3backer';
import { KDF_NAME, PBKDF2_ITERATIONS } from './derive-keys.js';

/**
 * The key-check object, relative to the volume's prefix. Ours, not the C tool's: the C tool has
 * no way to tell a wrong password until a block fails its HMAC, and then it has already mounted
 * (and would write new blocks under the wrong key). The C tool ignores this object: its block
 * listing only parses names that are block numbers (http_io_parse_block in http_io.c), so the
 * volume stays readable and writable by it; its --erase leaves this object behind (erase.c
 * deletes blocks only), so ours removes it explicitly (`deleteKeyCheck`).
 */
export const KEY_CHECK_NAME = 's3backer-keycheck';
export const KEY_CHECK_FORMAT = 's3backer-keycheck';
export const KEY_CHECK_VERSION = 1;
export const KEY_CHECK_CONTENT_TYPE = 'application/json';

/** The key-check object's JSON body. */
export interface KeyCheck {
  readonly format: typeof KEY_CHECK_FORMAT;
  readonly version: number;
  /** Canonical cipher name, as in the blocks' Content-Encoding. */
  readonly cipher: string;
  /** Bytes of derived key (`--keyLength`). */
  readonly keyLength: number;
  readonly kdf: string;
  readonly iterations: number;
  /** Lowercase hex of `keyCheckValue`. */
  readonly check: string;
}

/** The key-check object's full name in the store. */
export function keyCheckKey(prefix: string): string {
  return prefix + KEY_CHECK_NAME;
}

/** Whether `key` is the key-check object of the volume at `prefix` (for --erase and listings). */
export function isKeyCheckKey(key: string, prefix: string): boolean {
  return key === keyCheckKey(prefix);
}

/** Remove a volume's key-check object (--erase): the next mount re-creates it from the password it is given. */
export async function deleteKeyCheck(store: ObjectStore, prefix: string): Promise<void> {
  await store.delete(keyCheckKey(prefix));
}

/**
 * `HMAC-SHA1(key, "s3backer-keycheck:" + cipher)`. It reveals no more than any block's
 * `s3backer-hmac` does: both are HMACs under the same key of inputs an attacker knows (a block
 * number, the cipher name and the stored body), so each lets someone who can read the bucket test
 * a password guess at the cost of the PBKDF2 derivation, and neither reveals the key. A volume
 * with one stored block already offers that test; the key-check adds nothing to it.
 */
export function keyCheckValue(key: Buffer, cipherName: string): Buffer {
  return createHmac('sha1', key).update(`${KEY_CHECK_FORMAT}:${cipherName}`, 'latin1').digest();
}

export function createKeyCheck(cipherName: string, keyLength: number, key: Buffer): KeyCheck {
  return {
    format: KEY_CHECK_FORMAT, version: KEY_CHECK_VERSION, cipher: cipherName, keyLength,
    kdf: KDF_NAME, iterations: PBKDF2_ITERATIONS, check: keyCheckValue(key, cipherName).toString('hex'),
  };
}

/** The stored body: compact JSON, fields in a fixed order. */
export function serializeKeyCheck(check: KeyCheck): Buffer {
  const { format, version, cipher, keyLength, kdf, iterations, check: value } = check;
  return Buffer.from(JSON.stringify({ format, version, cipher, keyLength, kdf, iterations, check: value }), 'utf8');
}

/** A stored key check, or why it is not one (a string for the error message). */
export function parseKeyCheck(body: Buffer): KeyCheck | string {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return 'it is not JSON';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'it is not a JSON object';
  const record = value as Record<string, unknown>;
  if (record.format !== KEY_CHECK_FORMAT) return `its "format" is ${JSON.stringify(record.format)}, not "${KEY_CHECK_FORMAT}"`;
  if (record.version !== KEY_CHECK_VERSION) {
    return `its "version" is ${JSON.stringify(record.version)}; this s3backer reads version ${KEY_CHECK_VERSION} (a newer s3backer may have written it)`;
  }
  if (typeof record.cipher !== 'string' || record.cipher === '') return 'it has no "cipher"';
  if (!Number.isInteger(record.keyLength) || (record.keyLength as number) <= 0) return 'its "keyLength" is not a positive whole number';
  if (record.kdf !== KDF_NAME || record.iterations !== PBKDF2_ITERATIONS) {
    return `it records the key derivation ${JSON.stringify(record.kdf)} with ${JSON.stringify(record.iterations)} iterations, but the C tool's format uses only ${KDF_NAME} with ${PBKDF2_ITERATIONS}`;
  }
  if (typeof record.check !== 'string' || !/^[0-9a-f]{40}$/.test(record.check)) return 'its "check" is not 40 lowercase hex digits';
  return {
    format: KEY_CHECK_FORMAT, version: KEY_CHECK_VERSION, cipher: record.cipher, keyLength: record.keyLength as number,
    kdf: KDF_NAME, iterations: PBKDF2_ITERATIONS, check: record.check,
  };
}
