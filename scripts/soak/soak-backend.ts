import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3BackerPlugin } from '../../src/engine/plugin.js';
import type { ObjectStore } from '../../src/engine/object-store.js';
import { MemoryStore, type MemoryVolume } from '../../plugins/memory/memory-store.js';
import { DirStore } from '../../plugins/dir/dir-store.js';
import { BLOCK_CONTENT_TYPE } from '../../src/engine/object-pipeline.js';

export const BACKEND_KINDS = ['memory', 'dir'] as const;
export type BackendKind = (typeof BACKEND_KINDS)[number];

/** Where the soak's volume lives; it outlives each engine, so a fresh engine can re-open it. */
export interface SoakBackend {
  readonly kind: BackendKind;
  /** The config keys that choose it (`--store`, and the bucket: the dir store's directory). */
  readonly config: { store: string; bucket: string };
  /** Plugins that provide it (the memory store over the soak's own volume); given as config-file plugins. */
  readonly plugins: readonly S3BackerPlugin[];
  /** A handle straight on the objects, below every fault and retry: what a checkpoint reads. */
  rawStore(): ObjectStore;
  dispose(): Promise<void>;
}

/** The memory store's own plugin makes a fresh volume per mount; this one keeps ours across engines. */
const SOAK_MEMORY_STORE = 'soak-memory';

export async function createSoakBackend(kind: BackendKind): Promise<SoakBackend> {
  if (kind === 'memory') {
    const volume: MemoryVolume = new Map();
    const provider: S3BackerPlugin = {
      name: SOAK_MEMORY_STORE,
      apply: (engine) => engine.hooks.createStore.for(SOAK_MEMORY_STORE).tapPromise(SOAK_MEMORY_STORE, async () => new MemoryStore(volume, 'memory://soak/')),
    };
    return {
      kind, config: { store: SOAK_MEMORY_STORE, bucket: 'soak' }, plugins: [provider],
      rawStore: () => new MemoryStore(volume, 'memory://soak/'),
      dispose: async () => volume.clear(),
    };
  }
  // The dir store (the C tool's --test mode, test_io.c): one file per block in a directory.
  const directory = await mkdtemp(join(tmpdir(), 's3backer-soak-'));
  return {
    kind, config: { store: 'dir', bucket: directory }, plugins: [],
    rawStore: () => new DirStore({ directory, defaultContentType: BLOCK_CONTENT_TYPE }),
    dispose: () => rm(directory, { recursive: true, force: true }),
  };
}
