export { md5ProtectPlugin, MD5_PROTECT_PLUGIN_NAME, MD5_PROTECT_STORE_STAGE, type Md5ProtectPluginOptions } from './md5-protect-plugin.js';
export { md5ProtectFromConfig } from './md5-protect-from-config.js';
export { Md5ProtectedStore, IN_FLIGHT_ETAG, type Md5ProtectSettings, type Md5ProtectCounters } from './md5-protected-store.js';
export { Md5Cache, type Md5Entry, type WritingEntry, type WrittenEntry } from './md5-cache.js';
export { md5ProtectStats, formatDelay } from './md5-protect-stats.js';
