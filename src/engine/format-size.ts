/** The suffixes of sizes (powers of 1024), as the C tool's parse_size_string reads them (src/config/parse-size.ts). */
export const SIZE_SUFFIX_POWERS: Readonly<Record<string, number>> = Object.freeze({ '': 0, k: 10, m: 20, g: 30, t: 40, p: 50, e: 60 });

/** A size for messages and docs: the largest exact suffix (4096 → "4k"). */
export function formatSize(bytes: number): string {
  for (const suffix of ['e', 'p', 't', 'g', 'm', 'k']) {
    const unit = 2 ** SIZE_SUFFIX_POWERS[suffix]!;
    if (bytes >= unit && bytes % unit === 0) return `${bytes / unit}${suffix}`;
  }
  return String(bytes);
}
