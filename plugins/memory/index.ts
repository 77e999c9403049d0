import type { S3BackerPlugin } from 's3backer';
import { MemoryStore, type MemoryVolume } from './memory-store.js';

export const MEMORY_PLUGIN_NAME = 'memory';

export interface MemoryPluginOptions {
  /** Keep the objects across mounts (a test's "remount"); by default each mount gets a fresh, empty volume. */
  volume?: MemoryVolume;
}

/** Registers the `memory` store (`--store=memory`). */
export function memoryPlugin(options: MemoryPluginOptions = {}): S3BackerPlugin {
  return {
    name: MEMORY_PLUGIN_NAME,
    apply(engine) {
      engine.hooks.createStore.for(MEMORY_PLUGIN_NAME).tapPromise(MEMORY_PLUGIN_NAME, async () => new MemoryStore(options.volume));
    },
  };
}

export { MemoryStore, type MemoryVolume };
