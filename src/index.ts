// The public API of `s3backer`: what a config file, a third-party plugin or an embedding program uses.
export { defineConfig } from './config/define-config.js';
export type { UserConfig, ConfigEnv, UserConfigExport, UserPluginEntry } from './config/define-config.js';
export type { ResolvedConfig } from './config/resolved-config.js';
export { OPTION_TABLE, type OptionValues, type OptionKey } from './config/options.js';
export { closestName } from './config/closest-name.js';
export { defaultConfig } from './config/default-config.js';

export { Engine, type EngineOptions } from './engine/engine.js';
export { Stage } from './engine/stages.js';
export type { S3BackerPlugin, EnginePluginApi, PluginOptionSpec } from './engine/plugin.js';
export type {
  EngineHooks, PluginHooks, BlockRequest, WriteRequest, PartialWriteRequest, EncodedObject, BlockContext, TrimRequest, MountContext, BlockSink, EvictEvent, ReclaimRequest,
} from './engine/hooks.js';
export { PreconditionFailedError } from './engine/object-store.js';
export type { ObjectStore, StoreSupports, ObjectInfo, StoredObject, PutOptions, GetOptions, ListOptions, DeleteManyResult } from './engine/object-store.js';
export { closedStoreError } from './engine/closed-store-error.js';
export { ForwardingStore } from './engine/forwarding-store.js';
export { BlockGeometry, blockHash, MOUNT_TOKEN_NAME, mountTokenKey } from './engine/block-geometry.js';
export { formatBlockNumber } from './errors/block-number.js';
export { formatSize } from './engine/format-size.js';
export { BlockDevice } from './engine/block-device.js';
export { KeyedMutex } from './engine/keyed-mutex.js';
export { ConcurrencyLimit, forEachLimited } from './engine/concurrency-limit.js';
export { copyBuffer } from './engine/copy-buffer.js';
export { ObjectPipeline, BLOCK_CONTENT_TYPE, FILE_SIZE_META, BLOCK_SIZE_META, parseContentEncoding, isAllZero } from './engine/object-pipeline.js';
export { formatSeconds, type StatsProvider } from './engine/stats-registry.js';
export type { Logger, LogSink, LogLevel } from './engine/logger.js';

export { S3BackerError, isS3BackerError, type S3BackerErrorDetails } from './errors/s3backer-error.js';
export { ERROR_CODES, type ErrorCode } from './errors/codes.js';
