// The built-in plugins, importable by config files and third parties as `s3backer/plugins`.
export { memoryPlugin, MemoryStore, MEMORY_PLUGIN_NAME } from './memory/index.js';
export { zeroMapPlugin, ZERO_MAP_PLUGIN_NAME } from './zero-map/index.js';
export { dirPlugin } from './dir/index.js';
export { s3Plugin } from './s3/index.js';
export { blockCachePlugin, BLOCK_CACHE_PLUGIN_NAME, BlockCache, MemoryStorage, FileCacheStorage, readCacheFileToken, type BlockCachePluginOptions, type CacheStorage, type CacheVolume, type CacheContents, type CachedBlock } from './block-cache/index.js';
