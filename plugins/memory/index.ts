import type { S3BackerPlugin } from '../../src/engine/plugin.js';
import { MemoryStore, type MemoryVolume } from './memory-store.js';

export const MEMORY_PLUGIN_NAME = 'memory';

export interface MemoryPluginOptions {
  /** Keep the objects across mounts (a test's "remount"); by default each mount gets a fresh, empty volume. */
  volume?: MemoryVolume;
}

/** Provides the `memory` store when `store: 'memory'` is configured. */
export function memoryPlugin(options: MemoryPluginOptions = {}): S3BackerPlugin {
  return {
    name: MEMORY_PLUGIN_NAME,
    apply(engine) {
      engine.hooks.createBackend.tapPromise(MEMORY_PLUGIN_NAME, async (config) =>
        config.store === 'memory' ? new MemoryStore(options.volume) : undefined);
    },
  };
}

export { MemoryStore, type MemoryVolume };
