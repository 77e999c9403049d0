// The chaos store: fault injection around any store (docs/plugins.md, "The chaos store").
export { chaosPlugin, CHAOS_PLUGIN_NAME, type ChaosPlugin } from './chaos-plugin.js';
export { ChaosStore, type ChaosShared } from './chaos-store.js';
export {
  resolveChaosOptions, CHAOS_OPERATIONS, INJECTED_STATUSES,
  type ChaosOptions, type ChaosSettings, type ChaosOperation, type InjectedStatus, type ErrorRate, type PerOperation,
} from './chaos-options.js';
export type { Latency } from './latency-distribution.js';
export { CHAOS_FAULT_KINDS, type ChaosCounters, type ChaosFaultKind } from './chaos-stats.js';
export { chaosOptionsFromTestFlags, chaosFromTestFlags, TEST_ERRORS_RATE, TEST_DELAYS } from './chaos-options-from-test-flags.js';
