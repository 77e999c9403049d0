/**
 * Sizes as the C tool's parse_size_string reads them: an integer with an optional case-insensitive
 * suffix k m g t p e (powers of 1024). Unlike C s3backer 2.x (which, as coded, rejects a bare number:
 * the C fixtures note "invalid block size 4096"), a plain integer is accepted, as its man page promises.
 */
import { SIZE_SUFFIX_POWERS as SUFFIX_POWERS } from '../engine/format-size.js';

// The engine formats sizes in its messages; it owns that half so it imports nothing of src/config.
export { formatSize } from '../engine/format-size.js';

export function parseSize(text: string): number | undefined {
  const match = /^\s*(\d+)\s*([kmgtpe]?)(?:i?b)?\s*$/i.exec(text);
  if (!match) return undefined;
  const value = BigInt(match[1]!) << BigInt(SUFFIX_POWERS[match[2]!.toLowerCase()]!);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  return Number(value);
}
