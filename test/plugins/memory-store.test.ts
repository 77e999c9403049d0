import { test } from 'node:test';
import { MemoryStore } from '../../plugins/memory/index.js';
import { runBackendConformance } from '../conformance/index.js';

runBackendConformance({ test, name: 'memory', factory: async () => new MemoryStore() });
