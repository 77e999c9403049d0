import { resolve } from 'node:path';
import type { ResolvedConfig } from './resolved-config.js';
import type { S3BackerPlugin } from '../engine/plugin.js';
import { zeroMapPlugin } from '../../plugins/zero-map/index.js';
import { memoryPlugin } from '../../plugins/memory/index.js';
import { dirPlugin } from '../../plugins/dir/index.js';
import { s3Plugin } from '../../plugins/s3/index.js';
import { blockCachePlugin } from '../../plugins/block-cache/index.js';

/**
 * Declarative options become built-in plugin instances here, in one place (webpack's
 * WebpackOptionsApply). Plugins from the config file come first, so a third-party store or
 * codec tapped at the same stage wins ties over the built-ins.
 */
export function applyOptions(config: ResolvedConfig): S3BackerPlugin[] {
  return [
    ...config.plugins,
    zeroMapPlugin(),
    ...(config.blockCacheSize > 0 ? [blockCachePlugin({
      size: config.blockCacheSize, threads: config.blockCacheThreads, writeDelay: config.blockCacheWriteDelay, sync: config.blockCacheSync,
      timeout: config.blockCacheTimeout, maxDirty: config.blockCacheMaxDirty, numProtected: config.blockCacheNumProtected,
      readAhead: config.readAhead, readAheadTrigger: config.readAheadTrigger,
      noVerify: config.blockCacheNoVerify, recoverDirtyBlocks: config.blockCacheRecoverDirtyBlocks,
      ...(config.blockCacheFile === undefined ? {} : { file: resolve(config.blockCacheFile) }),
    })] : []),
    memoryPlugin(),
    dirPlugin(),
    s3Plugin(),
  ];
}
