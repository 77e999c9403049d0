import { test } from 'node:test';
import { runBlockDeviceConformance } from '../conformance/block-device-suite.js';
import { MemoryStore } from '../../plugins/memory/memory-store.js';
import { testConfig } from '../helpers/test-config.js';

runBlockDeviceConformance({ test, name: 'memory', createVolume: async () => { const volume = new Map(); return () => new MemoryStore(volume); }, config: (o) => testConfig(o) });
