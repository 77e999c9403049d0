import { test } from 'node:test';
import { MemoryStore } from '../../plugins/memory/index.js';
import { ChaosStore, resolveChaosOptions } from '../../plugins/chaos/index.js';
import { runBackendConformance } from '../conformance/index.js';

// A wrapped store keeps the contract (docs/plugins.md, "Wrapping a store"): with every fault rate
// at 0 and only latency on, chaos(memory) passes the suite the bare memory store passes. Latency
// reorders concurrent requests, which the contract allows.
runBackendConformance({
  test,
  name: 'chaos(memory), no faults, exponential latency',
  factory: async () => new ChaosStore(new MemoryStore(), resolveChaosOptions({
    seed: 1, latency: { mean: 2, max: 15 }, errorRate: 0, truncateRate: 0, missingEtagRate: 0, hang: { rate: 0, ms: 10 },
  })),
});

runBackendConformance({
  test,
  name: 'chaos(memory), no faults, latency per operation',
  factory: async () => new ChaosStore(new MemoryStore(), resolveChaosOptions({ seed: 2, latency: { get: { min: 0, max: 4 }, put: 3, list: 1 } })),
});
