import { BlockGeometry, blockKey, checkBlockSize } from './block-geometry.js';
import { FILE_SIZE_META, BLOCK_SIZE_META } from './object-pipeline.js';
import type { ObjectStore } from './object-store.js';
import type { Logger } from './logger.js';
import { S3BackerError } from '../errors/s3backer-error.js';
import { formatSize } from './format-size.js';

export const DEFAULT_BLOCK_SIZE = 4096;

export interface GeometryOptions {
  size?: number;
  blockSize?: number;
  prefix: string;
  blockHashPrefix: boolean;
  noAutoDetect: boolean;
  force: boolean;
}

/**
 * The C tool's auto-detection (s3b_config.c `validate_config`): HEAD block 0 and read
 * `x-amz-meta-s3backer-filesize` and `-blocksize`. Detected values fill in what was not given; a
 * mismatch with a given value is fatal unless `--force`. With nothing detected, `--size` is required
 * and the block size defaults to 4k.
 */
export async function detectGeometry(store: ObjectStore, options: GeometryOptions, log: Logger): Promise<BlockGeometry> {
  if (options.blockSize !== undefined) checkBlockSize(options.blockSize);
  let detected: { size: number; blockSize: number } | undefined;
  if (!options.noAutoDetect && store.supports.metadata) {
    const info = await store.head(blockKey(options.prefix, options.blockHashPrefix, 0));
    const size = Number(info?.metadata[FILE_SIZE_META] ?? 0);
    const blockSize = Number(info?.metadata[BLOCK_SIZE_META] ?? 0);
    if (size > 0 && blockSize > 0) detected = { size, blockSize };
  }
  if (detected) {
    log.info(`auto-detected size ${formatSize(detected.size)} (${detected.size} bytes), block size ${formatSize(detected.blockSize)}`);
    for (const [name, given, found] of [['--blockSize', options.blockSize, detected.blockSize], ['--size', options.size, detected.size]] as const) {
      if (given === undefined || given === found) continue;
      const message = `${name}=${given} differs from the ${found} recorded in block 0 of the volume`;
      if (!options.force) {
        throw new S3BackerError('S3B_SIZE_MISMATCH', `${message}; leave ${name} out to use the recorded value, or add --force to override it (data may become unreadable)`);
      }
      log.warn(`${message}; using ${given} because of --force`);
    }
    return new BlockGeometry(options.size ?? detected.size, options.blockSize ?? detected.blockSize, options.prefix, options.blockHashPrefix);
  }
  if (options.size === undefined) {
    const why = options.noAutoDetect ? 'auto-detection is off (--noAutoDetect)'
      : store.supports.metadata ? 'block 0 of the volume records no size (a new volume, or its block 0 is all zeros)'
      : `the ${store.kind} store keeps no metadata`;
    throw new S3BackerError('S3B_SIZE_REQUIRED', `cannot determine the disk size: ${why}; give it with --size, e.g. --size=1g`);
  }
  return new BlockGeometry(options.size, options.blockSize ?? DEFAULT_BLOCK_SIZE, options.prefix, options.blockHashPrefix);
}
