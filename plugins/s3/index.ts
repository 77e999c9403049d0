import type { S3BackerPlugin } from '../../src/engine/plugin.js';
import { resolveCredentials, type CredentialEnvironment } from './credentials.js';
import { resolveS3Endpoint, s3StoreOptionsFromConfig } from './s3-store-options.js';
import { S3Store } from './s3-store.js';
import { S3Stats } from './s3-stats.js';

export const S3_PLUGIN_NAME = 's3';

export interface S3PluginOptions {
  /**
   * Whether the server honours `If-None-Match: *` on PUT (AWS S3 does). Default true; a server
   * that ignores the header (s3rver) just overwrites, as an unconditional PUT would.
   */
  conditionalPut?: boolean;
  /** Where `$HOME` and `--accessKeyEnv` variables are read from; defaults to the process. */
  credentialEnvironment?: CredentialEnvironment;
  /**
   * How object GET/PUT/DELETE/HEAD are sent (S3StoreOptions.objectPath). Default: `sdk` when the
   * environment has `S3BACKER_S3_OBJECT_PATH=sdk` (an escape hatch, and the A/B switch of
   * docs/benchmarks.md), else `lean`.
   */
  objectPath?: 'lean' | 'sdk';
}

/**
 * Provides the `s3` store when `store: 's3'` is configured (the default). Endpoint options are
 * checked at config time (in `apply`); credentials are resolved when the store is created, since
 * reading the access file is I/O.
 */
export function s3Plugin(options: S3PluginOptions = {}): S3BackerPlugin {
  return {
    name: S3_PLUGIN_NAME,
    apply(engine) {
      if (engine.config.store !== 's3') return;
      resolveS3Endpoint(engine.config);
      // The C tool prints the http_* section only when the http layer exists (its fuse_ops.c stats file).
      const stats = new S3Stats();
      engine.stats(stats);
      const logger = engine.config.debug ? engine.logger(S3_PLUGIN_NAME) : undefined;
      let created: S3Store | undefined;

      engine.hooks.createBackend.tapPromise(S3_PLUGIN_NAME, async (config) => {
        if (config.store !== 's3') return undefined;
        const credentials = await resolveCredentials(config, options.credentialEnvironment);
        created = new S3Store({
          ...s3StoreOptionsFromConfig(config, credentials),
          stats,
          ...(logger ? { logger } : {}),
          ...(options.conditionalPut === undefined ? {} : { conditionalPut: options.conditionalPut }),
          objectPath: options.objectPath ?? (process.env.S3BACKER_S3_OBJECT_PATH === 'sdk' ? 'sdk' : 'lean'),
        });
        return created;
      });
      // Only now is the geometry known: from here on GETs/PUTs/DELETEs of block keys count as block I/O.
      engine.hooks.mount.tap(S3_PLUGIN_NAME, (context) => {
        if (context.store !== created) return;
        const { geometry } = context;
        stats.setBlockKeyClassifier((key) => geometry.parseKey(key) !== undefined);
      });
    },
  };
}

export { S3Store, type S3StoreOptions } from './s3-store.js';
export { S3Stats } from './s3-stats.js';
export { resolveCredentials, parseAccessFile, type S3Credentials, type CredentialOptions, type CredentialEnvironment, type AccessFileEntry } from './credentials.js';
export { resolveS3Endpoint, s3StoreOptionsFromConfig, type S3Endpoint } from './s3-store-options.js';
export { nextRetryPause, retrySchedule, withRetry, type RetryPolicy } from './retry.js';
