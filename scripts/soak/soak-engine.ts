import { Engine } from '../../src/engine/engine.js';
import type { BlockDevice } from '../../src/engine/block-device.js';
import type { S3BackerPlugin } from '../../src/engine/plugin.js';
import type { LogSink } from '../../src/engine/logger.js';
import type { OptionValues } from '../../src/config/options.js';
import { applyOptions } from '../../src/cli/apply-options.js';
import type { ChaosPlugin, ChaosOptions } from '../../plugins/chaos/index.js';
import { testConfig } from '../../test/helpers/test-config.js';
import type { SoakBackend } from './soak-backend.js';
import { SOAK_S3BACKER_DEFAULTS, type SoakFaults, type SoakOptions } from './soak-options.js';

export interface MountedSoakEngine {
  engine: Engine;
  device: BlockDevice;
}

/** The chaos store's options for the soak's fault rates (outages are started by the soak itself, outage-schedule.ts). */
export function soakChaosOptions(faults: SoakFaults, seed: number): ChaosOptions {
  const { errorRate: e, authErrorRate } = faults;
  return {
    seed,
    errorRate: { 500: 0.7 * e, 503: 0.2 * e, 429: 0.1 * e, 403: authErrorRate },
    latency: { mean: faults.latencyMean, max: faults.latencyMax },
    hang: { rate: faults.hangRate, ms: faults.hangMs },
    truncateRate: faults.truncateRate,
    missingEtagRate: faults.missingEtagRate,
  };
}

/**
 * The engine under test, built the way the CLI builds it (src/cli/run-engine.ts: the options
 * become the built-in plugins in applyOptions), with the chaos store and the backend's provider
 * as config-file plugins: chaos store over the backend, the retry layer above it, the zero map,
 * the block cache (unless --cacheSize=0), the codecs.
 */
export async function mountSoakEngine(options: SoakOptions, backend: SoakBackend, chaos: ChaosPlugin, extra: readonly S3BackerPlugin[], log: LogSink): Promise<MountedSoakEngine> {
  const overrides: Partial<OptionValues> = {
    ...SOAK_S3BACKER_DEFAULTS,
    ...options.s3backer,
    ...backend.config,
    size: options.blocks * options.blockSize,
    blockSize: options.blockSize,
    blockCacheSize: options.cacheSize,
  };
  const config = testConfig(overrides);
  const engine = Engine.create(config, applyOptions(config, { plugins: [...backend.plugins, chaos, ...extra] }), { log });
  const device = await engine.mount();
  return { engine, device };
}

/**
 * A fresh engine over the same backend for the durability check: no cache, no faults, no extra
 * plugins, so every read comes from what the store really holds. `force`: the soak's engine may
 * have left the mounted flag set (a failed final flush), which must not stop the check.
 */
export async function mountCheckEngine(options: SoakOptions, backend: SoakBackend, log: LogSink): Promise<MountedSoakEngine> {
  const config = testConfig({
    ...SOAK_S3BACKER_DEFAULTS,
    ...options.s3backer,
    ...backend.config,
    size: options.blocks * options.blockSize,
    blockSize: options.blockSize,
    blockCacheSize: 0,
    force: true,
  });
  const engine = Engine.create(config, applyOptions(config, { plugins: backend.plugins }), { log });
  const device = await engine.mount();
  return { engine, device };
}
