import { test } from 'node:test';
import { runBlockDeviceConformance } from '../conformance/block-device-suite.js';
import { MemoryStore } from '../../plugins/memory/memory-store.js';
import { blockCachePlugin } from '../../plugins/block-cache/index.js';
import { md5ProtectPlugin } from '../../plugins/md5-protect/index.js';
import { testConfig } from '../helpers/test-config.js';

// The disk contract holds with md5-protect around the store: a table covering every block with no
// time limit, a small one whose entries expire (writes wait for room) with a write delay, and
// the same behind a block cache (whose uploads and misses go through md5-protect).
const memoryVolume = async () => { const volume = new Map(); return () => new MemoryStore(volume); };
runBlockDeviceConformance({
  test, name: 'memory + md5-protect (every block, no time limit)', createVolume: memoryVolume, config: (o) => testConfig(o),
  plugins: () => [md5ProtectPlugin({ size: 1000 })],
});
runBlockDeviceConformance({
  test, name: 'memory + md5-protect (8 entries, 30 ms, minWriteDelay 5 ms)', createVolume: memoryVolume, config: (o) => testConfig(o),
  plugins: () => [md5ProtectPlugin({ size: 8, time: 30, minWriteDelay: 5 })],
});
runBlockDeviceConformance({
  test, name: 'memory + block cache (8 blocks) + md5-protect (8 entries, 30 ms, minWriteDelay 5 ms)', createVolume: memoryVolume, config: (o) => testConfig(o),
  plugins: () => [blockCachePlugin({ size: 8, threads: 4, writeDelay: 0 }), md5ProtectPlugin({ size: 8, time: 30, minWriteDelay: 5 })],
});
