import type { S3BackerPlugin } from 's3backer';
import { resolveCredentials, type CredentialEnvironment } from './credentials.js';
import { readOnlyCredentials, type CredentialProbe } from './read-only-credentials.js';
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
  /**
   * How a `--readOnly` mount without configured credentials looks for them before going anonymous
   * (read-only-credentials.ts); defaults to the AWS SDK's default chain.
   */
  credentialProbe?: CredentialProbe;
}

/**
 * Registers the `s3` store (`--store=s3`, the default). Endpoint options and credentials are
 * checked when the store is created, at the start of a mount, before any I/O.
 */
export function s3Plugin(options: S3PluginOptions = {}): S3BackerPlugin {
  return {
    name: S3_PLUGIN_NAME,
    apply(engine) {
      // Everything S3 happens only when the s3 store is chosen: a dir or memory mount neither
      // checks S3 options nor shows http_* stats (the C tool prints them only when its http layer
      // exists, fuse_ops.c).
      let created: S3Store | undefined;
      engine.hooks.createStore.for(S3_PLUGIN_NAME).tapPromise(S3_PLUGIN_NAME, async (config) => {
        resolveS3Endpoint(config);
        const log = engine.logger(S3_PLUGIN_NAME);
        const credentials = await readOnlyCredentials(await resolveCredentials(config, options.credentialEnvironment, log), config.readOnly, log, options.credentialProbe);
        const stats = new S3Stats();
        const logger = config.debug ? log : undefined;
        created = new S3Store({
          ...s3StoreOptionsFromConfig(config, credentials, log),
          stats,
          ...(logger ? { logger } : {}),
          ...(options.conditionalPut === undefined ? {} : { conditionalPut: options.conditionalPut }),
          objectPath: options.objectPath ?? (process.env.S3BACKER_S3_OBJECT_PATH === 'sdk' ? 'sdk' : 'lean'),
        });
        engine.stats(stats);
        return created;
      });
      // Only now is the geometry known: from here on GETs/PUTs/DELETEs of block keys count as block I/O.
      engine.hooks.mount.tap(S3_PLUGIN_NAME, ({ geometry }) => {
        created?.stats?.setBlockKeyClassifier((key) => geometry.parseKey(key) !== undefined);
      });
    },
  };
}

export { S3Store, type S3StoreOptions } from './s3-store.js';
export { S3Stats } from './s3-stats.js';
export { resolveCredentials, parseAccessFile, type S3Credentials, type CredentialOptions, type CredentialEnvironment, type AccessFileEntry } from './credentials.js';
export { resolveS3Endpoint, s3StoreOptionsFromConfig, type S3Endpoint } from './s3-store-options.js';
