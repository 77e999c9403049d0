import { resolve } from 'node:path';
import type { ResolvedConfig } from '../../config/resolved-config.js';
import type { S3BackerPlugin } from '../../engine/plugin.js';
import type { PluginOptionValues } from '../../config/merge-config.js';
import { mountTokenKey } from '../../engine/block-geometry.js';
import { createMaintenanceEngine } from '../run-engine.js';
import { readMountedFlag } from '../read-mounted-flag.js';
import { CacheFileToken, cacheFileVolumeId } from '../../../plugins/block-cache/index.js';

const hex8 = (token: number) => `0x${token.toString(16).padStart(8, '0')}`;

/**
 * `--reset-mounted-flag`: delete the mounted-flag object and, with `--blockCacheFile`, zero the
 * mount token recorded in the cache file (the C tool's reset.c does both), then exit, saying what
 * was cleared. The cache file is checked before anything changes: one that a live s3backer uses
 * (the volume is mounted) or that belongs to another volume is refused, and the flag stays.
 */
export async function resetMountedFlagCommand(config: ResolvedConfig, plugins: readonly S3BackerPlugin[] = [],
  pluginOptions: PluginOptionValues = {}): Promise<number> {
  const engine = createMaintenanceEngine(config, plugins, undefined, pluginOptions);
  const store = await engine.openStore();
  let cache: CacheFileToken | undefined;
  try {
    const cacheFile = config.blockCacheFile === undefined ? undefined : resolve(config.blockCacheFile);
    // Held open, with the file's lock, until the token is cleared: no mount can start using it in between.
    cache = cacheFile === undefined ? undefined : await CacheFileToken.open(cacheFile, cacheFileVolumeId(store.description, config.prefix));

    engine.log.info(`resetting mount token for ${store.description}`);
    const key = mountTokenKey(config.prefix);
    const flag = await readMountedFlag(store, key);
    await store.delete(key);
    engine.log.info(flag ? `cleared the mounted flag, set ${flag.description}` : 'the mounted flag was not set');

    if (cacheFile !== undefined && cache === undefined) {
      engine.log.info(`cache file ${cacheFile} does not exist: no mount token to clear there`);
    } else if (cache !== undefined) {
      const token = cache.token;
      await cache.clear();
      engine.log.info(token === undefined
        ? `cache file ${cache.path} records no mount token (its last mount shut down cleanly)`
        : `cleared mount token ${hex8(token)} in cache file ${cache.path}${flag && flag.token !== token ? ` (the volume's flag had ${hex8(flag.token)}: another mount's)` : ''}`);
      if (cache.dirtyBlocks > 0) {
        engine.log.warn(`cache file ${cache.path} holds ${cache.dirtyBlocks} blocks that were written but never stored; the next mount uploads them only with --blockCacheRecoverDirtyBlocks (without it the mount is refused; move the file away to discard them)`);
      }
    }
    engine.log.info('done');
  } finally {
    await cache?.close();
    await store.close();
  }
  return 0;
}
