import type { OptionValues } from '../../src/config/options.js';
import type { ResolvedConfig } from '../../src/config/resolved-config.js';
import { defaultConfig } from '../../src/config/default-config.js';

/** A ResolvedConfig with the option table's defaults, for tests that build engines directly (bucket "test"). */
export function testConfig(overrides: Partial<OptionValues> & { bucket?: string } = {}): ResolvedConfig {
  return defaultConfig({ bucket: 'test', ...overrides });
}
