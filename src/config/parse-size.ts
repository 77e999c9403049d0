/**
 * Sizes as the C tool's parse_size_string reads them: an integer with an optional case-insensitive
 * suffix k m g t p e (powers of 1024). Unlike C s3backer 2.x (which, as coded, rejects a bare number:
 * the C fixtures note "invalid block size 4096"), a plain integer is accepted, as its man page promises.
 */
const SUFFIX_POWERS: Record<string, number> = { '': 0, k: 10, m: 20, g: 30, t: 40, p: 50, e: 60 };

export function parseSize(text: string): number | undefined {
  const match = /^\s*(\d+)\s*([kmgtpe]?)(?:i?b)?\s*$/i.exec(text);
  if (!match) return undefined;
  const value = BigInt(match[1]!) << BigInt(SUFFIX_POWERS[match[2]!.toLowerCase()]!);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  return Number(value);
}

/** The inverse, for messages and docs: the largest exact suffix (4096 → "4k"). */
export function formatSize(bytes: number): string {
  for (const suffix of ['e', 'p', 't', 'g', 'm', 'k']) {
    const unit = 2 ** SUFFIX_POWERS[suffix]!;
    if (bytes >= unit && bytes % unit === 0) return `${bytes / unit}${suffix}`;
  }
  return String(bytes);
}
