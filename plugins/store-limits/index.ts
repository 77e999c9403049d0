import { Stage, type ResolvedConfig, type S3BackerPlugin } from 's3backer';
import { BandwidthLimitedStore, type BandwidthLimits } from './bandwidth-limited-store.js';
import { TokenBucket } from './token-bucket.js';
import { checkTransferSpeeds } from './check-transfer-speeds.js';

export const STORE_LIMITS_PLUGIN_NAME = 'store-limits';

/**
 * `--maxUploadSpeed` and `--maxDownloadSpeed` (bits per second) for whichever store is chosen,
 * wrapped at Stage.STORE_LIMITS (bandwidth-limited-store.ts). The C tool's check of the speeds
 * against `--timeout` runs here, when the options are turned into plugins, for a `--blockSize`
 * that is given (S3B_CONFIG_INVALID), and again at mount for an auto-detected one. Without either
 * speed the plugin taps nothing.
 */
export function storeLimitsPlugin(config: ResolvedConfig): S3BackerPlugin {
  const { maxUploadSpeed, maxDownloadSpeed, timeout } = config;
  const speeds = { maxUploadSpeed, maxDownloadSpeed, timeout };
  if (config.blockSize !== undefined) checkTransferSpeeds(speeds, config.blockSize);
  return {
    name: STORE_LIMITS_PLUGIN_NAME,
    apply(engine) {
      if (maxUploadSpeed === undefined && maxDownloadSpeed === undefined) return;
      engine.hooks.wrapStore.tap({ name: STORE_LIMITS_PLUGIN_NAME, stage: Stage.STORE_LIMITS }, (store) => {
        // Buckets per store (a mount, or a maintenance command), shared by all its requests.
        const limits: BandwidthLimits = {
          ...(maxUploadSpeed === undefined ? {} : { upload: new TokenBucket({ rate: maxUploadSpeed / 8 }) }),
          ...(maxDownloadSpeed === undefined ? {} : { download: new TokenBucket({ rate: maxDownloadSpeed / 8 }) }),
        };
        return new BandwidthLimitedStore(store, limits);
      });
      engine.hooks.mount.tap(STORE_LIMITS_PLUGIN_NAME, ({ geometry }) => checkTransferSpeeds(speeds, geometry.blockSize));
    },
  };
}

export { BandwidthLimitedStore, type BandwidthLimits } from './bandwidth-limited-store.js';
export { TokenBucket, type TokenBucketOptions } from './token-bucket.js';
export { checkTransferSpeeds, type TransferSpeeds } from './check-transfer-speeds.js';
