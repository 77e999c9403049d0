import type { S3BackerPlugin } from '../../src/engine/plugin.js';
import { MemoryStore } from './memory-store.js';

export const MEMORY_PLUGIN_NAME = 'memory';

export interface MemoryPluginOptions {
  /** Share one store between mounts (a test's "remount"); by default each mount gets a fresh, empty one. */
  store?: MemoryStore;
}

/** Provides the `memory` store when `store: 'memory'` is configured. */
export function memoryPlugin(options: MemoryPluginOptions = {}): S3BackerPlugin {
  return {
    name: MEMORY_PLUGIN_NAME,
    apply(engine) {
      engine.hooks.createBackend.tapPromise(MEMORY_PLUGIN_NAME, async (config) =>
        config.store === 'memory' ? (options.store ?? new MemoryStore()) : undefined);
    },
  };
}

export { MemoryStore };
