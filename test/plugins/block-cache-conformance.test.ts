import { test } from 'node:test';
import { runBlockDeviceConformance } from '../conformance/block-device-suite.js';
import { MemoryStore } from '../../plugins/memory/memory-store.js';
import { blockCachePlugin } from '../../plugins/block-cache/index.js';
import { testConfig } from '../helpers/test-config.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The disk contract holds with the cache on: a cache smaller than the suite's 64-block disk (so
// eviction and write-back under pressure are exercised), with and without a write delay.
const memoryVolume = async () => { const volume = new Map(); return () => new MemoryStore(volume); };
runBlockDeviceConformance({
  test, name: 'memory + block cache (8 blocks, delay 0)', createVolume: memoryVolume, config: (o) => testConfig(o),
  plugins: () => [blockCachePlugin({ size: 8, threads: 4, writeDelay: 0 })],
});
runBlockDeviceConformance({
  test, name: 'memory + block cache (1000 blocks, delay 250 ms, read-ahead)', createVolume: memoryVolume, config: (o) => testConfig(o),
  plugins: () => [blockCachePlugin({ size: 1000, writeDelay: 250, readAhead: 4, readAheadTrigger: 2 })],
});

// The same with the blocks in a cache file, a fresh one per mount (one process holds a cache file
// at a time, and the suite mounts twice at once). Reloading a file is tested in block-cache-file.test.ts.
const cacheDir = mkdtempSync(join(tmpdir(), 's3backer-cache-suite-'));
let cacheFiles = 0;
runBlockDeviceConformance({
  test, name: 'memory + block cache in a cache file (8 blocks)', createVolume: memoryVolume, config: (o) => testConfig(o),
  plugins: () => [blockCachePlugin({ size: 8, threads: 4, writeDelay: 0, file: join(cacheDir, `cache${cacheFiles++}`) })],
});
