// The built-in plugins, importable by config files and third parties as `s3backer/plugins`.
export { memoryPlugin, MemoryStore, MEMORY_PLUGIN_NAME } from './memory/index.js';
export { zeroMapPlugin, ZERO_MAP_PLUGIN_NAME } from './zero-map/index.js';
export { dirPlugin } from './dir/index.js';
export { s3Plugin } from './s3/index.js';
export { blockCachePlugin, BLOCK_CACHE_PLUGIN_NAME, BlockCache, MemoryStorage, FileCacheStorage, readCacheFileToken, type BlockCachePluginOptions, type CacheStorage, type CacheVolume, type CacheContents, type CachedBlock } from './block-cache/index.js';
export { deflatePlugin, DEFLATE_PLUGIN_NAME, type DeflatePluginOptions } from './compress-deflate/index.js';
export { zstdPlugin, ZSTD_PLUGIN_NAME, type ZstdPluginOptions } from './compress-zstd/index.js';
export { lz4Plugin, LZ4_PLUGIN_NAME, type Lz4PluginOptions } from './compress-lz4/index.js';
export { encryptPlugin, ENCRYPT_PLUGIN_NAME, KEY_CHECK_NAME, acceptedCipherNames, type EncryptPluginOptions } from './encrypt-hmac/index.js';
export { chaosPlugin, CHAOS_PLUGIN_NAME, ChaosStore, chaosOptionsFromTestFlags, type ChaosPlugin, type ChaosOptions } from './chaos/index.js';
export { md5ProtectPlugin, MD5_PROTECT_PLUGIN_NAME, type Md5ProtectPluginOptions } from './md5-protect/index.js';
export { retryPlugin, RETRY_PLUGIN_NAME } from './retry/index.js';
export { storeLimitsPlugin, STORE_LIMITS_PLUGIN_NAME } from './store-limits/index.js';
