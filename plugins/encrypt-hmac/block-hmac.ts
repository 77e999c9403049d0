import { createHmac, timingSafeEqual } from 'node:crypto';
import { formatBlockNumber } from 's3backer';

/** Object metadata holding a block's signature (the C tool's `x-amz-meta-s3backer-hmac`). */
export const HMAC_META = 's3backer-hmac';

/**
 * A block's signature (http_io_authsig, http_io.c): HMAC-SHA1 keyed with all `keyLength` bytes of
 * the key, over the ASCII `%08x` block number, the canonical cipher name and the stored
 * (encrypted) body. The block number is what makes an object copied onto another block fail; the
 * HMAC covers the ciphertext, so a tampered body is refused before it is decrypted.
 */
export function blockHmac(key: Buffer, cipherName: string, block: number, body: Buffer): Buffer {
  return createHmac('sha1', key).update(formatBlockNumber(block), 'latin1').update(cipherName, 'latin1').update(body).digest();
}

/** The metadata value: the hex digest in double quotes, which are part of the value (http_io.c writes `"%s"`). */
export function formatHmacMeta(hmac: Buffer): string {
  return `"${hmac.toString('hex')}"`;
}

/**
 * The 20-byte digest a metadata value holds, or undefined when there is none. The C tool scans it
 * with `"\"%40c\""` and parses hex without case; the quotes are accepted as optional here for
 * stores that strip them, which changes nothing about what verifies.
 */
export function parseHmacMeta(value: string | undefined): Buffer | undefined {
  const match = value === undefined ? null : /^\s*"?([0-9a-fA-F]{40})"?\s*$/.exec(value);
  return match ? Buffer.from(match[1]!, 'hex') : undefined;
}

/** Whether `stored` is `expected`, in time independent of where they differ (a forger learns nothing from timing). */
export function hmacMatches(stored: Buffer, expected: Buffer): boolean {
  return stored.length === expected.length && timingSafeEqual(stored, expected);
}
