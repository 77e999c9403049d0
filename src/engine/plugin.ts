import type { PluginHooks, EvictEvent } from './hooks.js';
import type { ResolvedConfig } from '../config/resolved-config.js';
import type { BlockGeometry } from './block-geometry.js';
import type { Logger } from './logger.js';
import type { StatsProvider } from './stats-registry.js';
import type { ObjectPipeline } from './object-pipeline.js';

/**
 * A plugin: a factory `xxxPlugin(options)` validates its options and returns `{ name, apply }`.
 * `apply` only taps hooks; I/O starts in `hooks.mount`. Built-ins use exactly this API.
 */
export interface S3BackerPlugin {
  /** Unique per engine; the tap name in errors. Built-ins use short names ("s3", "zero-map"). */
  readonly name: string;
  apply(engine: EnginePluginApi): void;
}

/** The engine as a plugin sees it: tap-only hooks, the frozen config, and services. */
export interface EnginePluginApi {
  readonly hooks: PluginHooks;
  readonly config: ResolvedConfig;
  /** Geometry of the mounted volume; available from `hooks.mount` on. */
  readonly geometry: BlockGeometry;
  /** Read and write whole blocks through encode/decode and the store (a write-back cache flushes through this); from `hooks.mount` on. */
  readonly objects: ObjectPipeline;
  /**
   * Read a block from the object tier, below every `readBlock` tap, with its object's ETag: a
   * cache's miss and read-ahead path. Unlike `objects.read`, the `blockRead` observers (the zero
   * map) learn what was read. From `hooks.mount` on.
   */
  fetchBlock(block: number): Promise<{ data: Buffer; etag: string | undefined }>;
  /**
   * Blocks that plugins hold but have not stored yet (a cache's dirty blocks, also those recovered
   * from a cache file): what the `listBlocks` taps report. A survey of the store must not take them
   * for zeros. From `hooks.mount` on.
   */
  unstoredBlocks(): Promise<number[]>;
  /** Register counters for the stats file. */
  stats(provider: StatsProvider): void;
  logger(name: string): Logger;
  /** Tell `hooks.evict` listeners that a cache tier dropped a block. */
  evicted(event: EvictEvent): Promise<void>;
}
