import { test } from 'node:test';
import { runBlockDeviceConformance } from '../conformance/block-device-suite.js';
import { MemoryStore } from '../../plugins/memory/memory-store.js';
import { deflatePlugin } from '../../plugins/compress-deflate/index.js';
import { zstdPlugin } from '../../plugins/compress-zstd/index.js';
import { lz4Plugin } from '../../plugins/compress-lz4/index.js';
import { encryptPlugin } from '../../plugins/encrypt-hmac/index.js';
import { blockCachePlugin } from '../../plugins/block-cache/index.js';
import type { S3BackerPlugin } from '../../src/engine/plugin.js';
import { testConfig } from '../helpers/test-config.js';

// The disk contract again, over every pipeline variant: each codec, encrypted, compressed and
// encrypted, and the cache in front of a codec chain.
const variants: Array<[string, () => S3BackerPlugin[]]> = [
  ['deflate', () => [deflatePlugin({ encode: true })]],
  ['zstd', () => [zstdPlugin({ encode: true })]],
  ['lz4', () => [lz4Plugin({ encode: true })]],
  ['AES-128-CBC (with the deflate it implies)', () => [deflatePlugin({ encode: true }), encryptPlugin({ password: 'suite' })]],
  ['zstd + AES-192-CBC', () => [zstdPlugin({ encode: true }), encryptPlugin({ cipher: 'AES-192-CBC', password: 'suite' })]],
  ['block cache + lz4 + AES-256-CBC', () => [blockCachePlugin({ size: 32, writeDelay: 0 }), lz4Plugin({ encode: true }), encryptPlugin({ cipher: 'AES-256-CBC', password: 'suite' })]],
];
for (const [name, plugins] of variants) {
  runBlockDeviceConformance({
    test, name: `memory + ${name}`, plugins,
    createVolume: async () => { const volume = new Map(); return () => new MemoryStore(volume); },
    config: (overrides) => testConfig({ bucket: 'device-suite', ...overrides }),
  });
}
