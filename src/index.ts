// The public API of `s3backer`: what a config file, a third-party plugin or an embedding program uses.
export { defineConfig } from './config/define-config.js';
export type { UserConfig, ConfigEnv, UserConfigExport, UserPluginEntry } from './config/define-config.js';
export type { ResolvedConfig } from './config/resolved-config.js';
export { OPTION_TABLE, type OptionValues, type OptionKey } from './config/options.js';

export { Engine, type EngineOptions } from './engine/engine.js';
export { Stage } from './engine/stages.js';
export type { S3BackerPlugin, EnginePluginApi } from './engine/plugin.js';
export type {
  EngineHooks, PluginHooks, BlockRequest, WriteRequest, EncodedObject, BlockContext, TrimRequest, MountContext, BlockSink, EvictEvent, ReclaimRequest,
} from './engine/hooks.js';
export { PreconditionFailedError } from './engine/object-store.js';
export type { ObjectStore, StoreSupports, ObjectInfo, StoredObject, PutOptions, ListOptions } from './engine/object-store.js';
export { ForwardingStore } from './engine/forwarding-store.js';
export { BlockGeometry, blockHash, MOUNT_TOKEN_NAME } from './engine/block-geometry.js';
export { BlockDevice } from './engine/block-device.js';
export { KeyedMutex } from './engine/keyed-mutex.js';
export { copyBuffer } from './engine/copy-buffer.js';
export { ObjectPipeline } from './engine/object-pipeline.js';
export type { StatsProvider } from './engine/stats-registry.js';
export type { Logger, LogSink, LogLevel } from './engine/logger.js';

export { S3BackerError, isS3BackerError, type S3BackerErrorDetails } from './errors/s3backer-error.js';
export { ERROR_CODES, type ErrorCode } from './errors/codes.js';
