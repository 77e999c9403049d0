import type { PluginHooks, EvictEvent } from './hooks.js';
import type { ResolvedConfig } from '../config/resolved-config.js';
import type { BlockGeometry } from './block-geometry.js';
import type { Logger } from './logger.js';
import type { StatsProvider } from './stats-registry.js';
import type { ObjectPipeline } from './object-pipeline.js';
import type { OptionSpec } from '../config/options.js';

/** An OPTION_TABLE entry as a plugin declares it (distributed over the spec types, so `type` still picks the shape). */
type DeclaredSpec<S> = S extends unknown ? Omit<S, 'group' | 'cliOnly' | 'flag'> & {
  /** The flag name without `--`; defaults to the option's key. */
  flag?: string;
} : never;

/**
 * One option a plugin declares for itself: the shape of a built-in option's entry (type, doc,
 * default, metavar, min/max, values, validate, aliases), without `group` (its `--help` section is
 * the plugin's) or `cliOnly` (a plugin's option is also a config-file key).
 */
export type PluginOptionSpec = DeclaredSpec<OptionSpec>;

/**
 * A plugin: a factory `xxxPlugin(options)` validates its options and returns `{ name, apply }`.
 * `apply` only taps hooks; I/O starts in `hooks.mount`. Built-ins use exactly this API.
 */
export interface S3BackerPlugin {
  /** Unique per engine; the tap name in errors. Built-ins use short names ("s3", "zero-map"). */
  readonly name: string;
  /**
   * Options of the plugin's own, by config key (docs/plugins.md, "Options of your own"): parsed
   * from flags, `-o` lists, flag files and config-file keys with the same checks as the built-in
   * options, listed in `--help`; `apply` reads their values from `engine.options`. A key or flag
   * that a built-in option or another plugin already uses is a configuration error.
   */
  readonly options?: Readonly<Record<string, PluginOptionSpec>>;
  apply(engine: EnginePluginApi): void;
}

/** The engine as a plugin sees it: tap-only hooks, the frozen config, and services. */
export interface EnginePluginApi {
  readonly hooks: PluginHooks;
  readonly config: ResolvedConfig;
  /**
   * This plugin's own option values (those its `options` declares), defaults filled in, frozen;
   * `{}` when it declares none. The command line and config file set them; an embedding program
   * passes them to `Engine.create` (`pluginOptions`).
   */
  readonly options: Readonly<Record<string, unknown>>;
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
