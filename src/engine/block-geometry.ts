import { S3BackerError } from '../errors/s3backer-error.js';
import { formatSize } from './format-size.js';
import { formatBlockNumber } from '../errors/block-number.js';

export const MIN_BLOCK_SIZE = 512;
export const MAX_BLOCK_SIZE = 1 << 30;
/** Block numbers are uint32 in the C tool's object names, so a volume has fewer than 2^32 blocks. */
export const MAX_BLOCKS = 2 ** 32;
/** Name of the C tool's mounted-flag object, relative to the prefix; never hash-prefixed. */
export const MOUNT_TOKEN_NAME = 's3backer-mounted';

/** The mounted flag's object name under `prefix`: the one place it is built (the C tool's http_io.c: prefix + "s3backer-mounted"). */
export function mountTokenKey(prefix: string): string {
  return prefix + MOUNT_TOKEN_NAME;
}

/**
 * The C tool's block-name hash (`--blockHashPrefix`): in uint32 arithmetic,
 * `h = block; for n = 12 down to 1: h = ((h >> 8) ^ h) * 0x6b + n`.
 */
export function blockHash(block: number): number {
  let h = block >>> 0;
  for (let n = 12; n >= 1; n--) h = (Math.imul(((h >>> 8) ^ h) >>> 0, 0x6b) + n) >>> 0;
  return h;
}

/** Object name of a block: `prefix + [%08x(hash) + '-'] + %08x(block)`, exactly as the C tool names it. */
export function blockKey(prefix: string, hashPrefix: boolean, block: number): string {
  return prefix + (hashPrefix ? formatBlockNumber(blockHash(block)) + '-' : '') + formatBlockNumber(block);
}

export function checkBlockSize(blockSize: number): void {
  if (!Number.isSafeInteger(blockSize) || blockSize < MIN_BLOCK_SIZE || blockSize > MAX_BLOCK_SIZE || (blockSize & (blockSize - 1)) !== 0) {
    throw new S3BackerError('S3B_CONFIG_INVALID',
      `block size ${blockSize} is not a power of two between ${formatSize(MIN_BLOCK_SIZE)} and ${formatSize(MAX_BLOCK_SIZE)}; use e.g. --blockSize=4k or --blockSize=1m`);
  }
}

/**
 * Size math and object naming for one volume: `prefix + [hash + '-'] + %08x(block)`, exactly as
 * the C tool names objects, so a bucket written by either tool is readable by the other.
 */
export class BlockGeometry {
  readonly numBlocks: number;
  readonly mountTokenKey: string;

  constructor(
    readonly size: number,
    readonly blockSize: number,
    readonly prefix: string = '',
    readonly hashPrefix: boolean = false,
  ) {
    checkBlockSize(blockSize);
    if (!Number.isSafeInteger(size) || size <= 0 || size % blockSize !== 0) {
      throw new S3BackerError('S3B_CONFIG_INVALID',
        `size ${size} is not a positive multiple of the block size ${formatSize(blockSize)}; pick a size such as --size=${formatSize(Math.max(1, Math.ceil(size / blockSize)) * blockSize)}`);
    }
    this.numBlocks = size / blockSize;
    if (this.numBlocks >= MAX_BLOCKS) {
      throw new S3BackerError('S3B_CONFIG_INVALID',
        `size ${formatSize(size)} needs ${this.numBlocks} blocks of ${formatSize(blockSize)}, more than the 2^32-1 block names allow; use a larger --blockSize`);
    }
    this.mountTokenKey = mountTokenKey(prefix);
  }

  /** Object name of a block. */
  key(block: number): string {
    return blockKey(this.prefix, this.hashPrefix, block);
  }

  /**
   * The block a key names, or undefined when the key is not a block of this volume (the mounted
   * flag, another prefix, a block past the end, a wrong hash): the C tool's parse rules.
   */
  parseKey(key: string): number | undefined {
    if (!key.startsWith(this.prefix)) return undefined;
    const rest = key.slice(this.prefix.length);
    const match = this.hashPrefix ? /^([0-9a-f]{8})-([0-9a-f]{8})$/.exec(rest) : /^()([0-9a-f]{8})$/.exec(rest);
    if (!match) return undefined;
    const block = parseInt(match[2]!, 16);
    if (block >= this.numBlocks) return undefined;
    if (this.hashPrefix && parseInt(match[1]!, 16) !== blockHash(block)) return undefined;
    return block;
  }
}
