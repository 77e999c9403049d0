import type { ResolvedConfig } from '../../src/config/resolved-config.js';
import { S3BackerError } from '../../src/errors/s3backer-error.js';

export type Md5Flags = Pick<ResolvedConfig, 'md5CacheSize' | 'md5CacheTime' | 'minWriteDelay' | 'readOnly' | 'sharedDiskMode'>;

/**
 * The C tool's cross-checks of the MD5 cache flags (s3b_config.c, validate_config), for the config
 * layer: --md5CacheTime and --minWriteDelay need the cache, and a finite --md5CacheTime must cover
 * --minWriteDelay (an entry must outlive the delay it enforces). --readOnly and --sharedDiskMode
 * turn the cache off before these checks there, so the flags are not checked then. The check that
 * needs the volume's block count ("eventual deadlock") runs at mount, in the plugin.
 */
export function checkMd5Flags(config: Md5Flags): void {
  if (config.readOnly || config.sharedDiskMode) return;
  const { md5CacheSize, md5CacheTime, minWriteDelay } = config;
  if (md5CacheSize === 0 && md5CacheTime > 0) {
    throw new S3BackerError('S3B_CONFIG_INVALID',
      `--md5CacheTime=${md5CacheTime} needs the MD5 cache, which is off (--md5CacheSize=0); give --md5CacheSize=N to turn it on, or drop --md5CacheTime`);
  }
  if (md5CacheSize === 0 && minWriteDelay > 0) {
    throw new S3BackerError('S3B_CONFIG_INVALID',
      `--minWriteDelay=${minWriteDelay} needs the MD5 cache, which is off (--md5CacheSize=0); give --md5CacheSize=N (and --md5CacheTime) to turn it on, or drop --minWriteDelay`);
  }
  if (md5CacheTime > 0 && md5CacheTime < minWriteDelay) {
    throw new S3BackerError('S3B_CONFIG_INVALID',
      `--md5CacheTime=${md5CacheTime} is shorter than --minWriteDelay=${minWriteDelay}: a block's entry would be forgotten before the delay it enforces ends; make --md5CacheTime at least ${minWriteDelay}`);
  }
}
