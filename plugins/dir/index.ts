import type { S3BackerPlugin } from '../../src/engine/plugin.js';
import type { ResolvedConfig } from '../../src/config/resolved-config.js';
import { BLOCK_CONTENT_TYPE } from '../../src/engine/object-pipeline.js';
import { DirStore } from './dir-store.js';

export const DIR_PLUGIN_NAME = 'dir';

/** `--test` is the C tool's spelling of `--store=dir` (c-s3backer.md §6.3). */
function wantsDir(config: ResolvedConfig): boolean {
  return config.store === 'dir' || config.test;
}

/** Provides the `dir` store when `store: 'dir'` (or `--test`) is configured; the bucket argument is the directory. */
export function dirPlugin(): S3BackerPlugin {
  return {
    name: DIR_PLUGIN_NAME,
    apply(engine) {
      engine.hooks.createBackend.tapPromise(DIR_PLUGIN_NAME, async (config) =>
        wantsDir(config) ? new DirStore({ directory: config.bucket, defaultContentType: BLOCK_CONTENT_TYPE }) : undefined);
    },
  };
}

export { DirStore, type DirStoreOptions } from './dir-store.js';
