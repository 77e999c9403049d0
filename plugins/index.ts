// The built-in plugins, importable by config files and third parties as `s3backer/plugins`.
export { memoryPlugin, MemoryStore, MEMORY_PLUGIN_NAME } from './memory/index.js';
export { zeroMapPlugin, ZERO_MAP_PLUGIN_NAME } from './zero-map/index.js';
export { dirPlugin } from './dir/index.js';
export { s3Plugin } from './s3/index.js';
