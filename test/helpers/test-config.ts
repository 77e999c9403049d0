import { OPTION_TABLE, OPTION_KEYS, type OptionValues } from '../../src/config/options.js';
import type { ResolvedConfig } from '../../src/config/resolved-config.js';

/** A ResolvedConfig with the option table's defaults, for tests that build engines directly. */
export function testConfig(overrides: Partial<OptionValues> & { bucket?: string } = {}): ResolvedConfig {
  const defaults: Record<string, unknown> = {};
  for (const key of OPTION_KEYS) {
    const spec = OPTION_TABLE[key] as { default?: unknown };
    if (spec.default !== undefined) defaults[key] = spec.default;
  }
  return Object.freeze({ ...defaults, fileMode: 0o600, bucket: 'test', plugins: [], ...overrides }) as ResolvedConfig;
}
