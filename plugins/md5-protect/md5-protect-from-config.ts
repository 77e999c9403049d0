import type { ResolvedConfig, S3BackerPlugin } from 's3backer';
import { md5ProtectPlugin } from './md5-protect-plugin.js';

/**
 * The md5-protect plugin the flags ask for: none unless --md5CacheSize > 0, and none with
 * --readOnly (nothing is written, so nothing can be read stale) or --sharedDiskMode (other hosts
 * write the blocks too, so our memory of them proves nothing), which turn it off in the C tool
 * (s3b_config.c, validate_config).
 */
export function md5ProtectFromConfig(config: ResolvedConfig): S3BackerPlugin[] {
  if (config.md5CacheSize <= 0 || config.readOnly || config.sharedDiskMode) return [];
  return [md5ProtectPlugin({ size: config.md5CacheSize, time: config.md5CacheTime, minWriteDelay: config.minWriteDelay })];
}
