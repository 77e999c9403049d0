import { formatBlockNumber, type BlockGeometry } from 's3backer';

/** Number of distinct 8-hex-digit names: the name space with `--blockHashPrefix`. */
const NAME_SPACE = 2 ** 32;

/**
 * One slice of the volume's key space, listed by one listing in flight. Keys are
 * `prefix + %08x(name) [+ '-' + %08x(block)]`, so in ascending key order the slice is every
 * key from just after `startAfter` up to, not including, `stopAt`.
 */
export interface SurveyRange {
  /** First and last 32-bit name of the slice: a block number, or with `--blockHashPrefix` a block's hash. */
  readonly first: number;
  readonly last: number;
  /**
   * The listing's key prefix: the volume's prefix plus the hex digits every name of the slice
   * begins with. The server then returns only keys of the slice (with 16 slices of hashed names,
   * exactly its first hex digit) instead of pages that run on into the next slices, as the C
   * tool's do (it sends no prefix, http_io.c `http_io_list_blocks_range`).
   */
  readonly prefix: string;
  /** Sorts just before the slice's first key (the listing's start-after marker). */
  readonly startAfter: string;
  /** Sorts just after the slice's last key: the listing stops at the first key not below it. */
  readonly stopAt: string;
}

/**
 * Split the key space into at most `count` contiguous slices of (nearly) equal size, the way the C
 * tool's listing threads split it (http_io.c `http_io_survey_non_zero`): the names run over
 * `[0, numBlocks)` for plain keys, over all of `[0, 2^32)` with `--blockHashPrefix` (the hash
 * spreads blocks evenly over it, so 16 slices are exactly the 16 first hex digits). Splitting plain
 * names by block number, rather than by a fixed first hex digit, keeps every listing busy on a volume
 * whose block numbers all begin with `0`. A volume with fewer blocks than `count` gets one slice per block.
 */
export function surveyRanges(geometry: Pick<BlockGeometry, 'prefix' | 'hashPrefix' | 'numBlocks'>, count: number): SurveyRange[] {
  if (!Number.isSafeInteger(count) || count < 1) throw new RangeError(`the survey needs at least one listing, not ${count}`);
  const space = geometry.hashPrefix ? NAME_SPACE : geometry.numBlocks;
  const slices = Math.min(count, space);
  const { prefix } = geometry;
  const ranges: SurveyRange[] = [];
  for (let i = 0; i < slices; i++) {
    const first = Math.floor((i * space) / slices);
    const end = Math.floor(((i + 1) * space) / slices);
    ranges.push({
      first,
      last: end - 1,
      prefix: prefix + commonPrefix(formatBlockNumber(first), formatBlockNumber(end - 1)),
      // `prefix + "0000000/"` sorts just before `prefix + "00000000…"` ('/' precedes '0'), as the C
      // tool's first marker does; otherwise '~' sorts after every name that begins with the previous
      // name (`…-%08x(block)` included), so the slice starts at its own first name.
      startAfter: first === 0 ? `${prefix}0000000/` : `${prefix}${formatBlockNumber(first - 1)}~`,
      // 'g' sorts after every hex digit: past the end of the hashed name space.
      stopAt: end < NAME_SPACE ? prefix + formatBlockNumber(end) : `${prefix}g`,
    });
  }
  return ranges;
}

function commonPrefix(a: string, b: string): string {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return a.slice(0, i);
}

/** The 32-bit name a key begins with after the prefix (block number or hash), or undefined for a key that is not a block's. */
export function surveyName(prefix: string, key: string): number | undefined {
  if (!key.startsWith(prefix)) return undefined;
  const digits = key.slice(prefix.length, prefix.length + 8);
  return /^[0-9a-f]{8}$/.test(digits) ? parseInt(digits, 16) : undefined;
}
