import { BLOCK_CONTENT_TYPE, type S3BackerPlugin } from 's3backer';
import { DirStore } from './dir-store.js';

export const DIR_PLUGIN_NAME = 'dir';

/**
 * Registers the `dir` store (`--store=dir`; the config layer turns the C tool's
 * `--test` into that, test_io.c); the bucket argument is the directory.
 */
export function dirPlugin(): S3BackerPlugin {
  return {
    name: DIR_PLUGIN_NAME,
    apply(engine) {
      engine.hooks.createStore.for(DIR_PLUGIN_NAME).tapPromise(DIR_PLUGIN_NAME, async (config) =>
        new DirStore({ directory: config.bucket, defaultContentType: BLOCK_CONTENT_TYPE }));
    },
  };
}

export { DirStore, type DirStoreOptions } from './dir-store.js';
