import { OPTION_TABLE, OPTION_KEYS, type OptionValues } from './options.js';
import type { ResolvedConfig } from './resolved-config.js';

/**
 * A ResolvedConfig from the option table's defaults and `overrides`, with no command line and no
 * config file: for programs that build an Engine themselves, and for the conformance suites'
 * `config` option (the block-device suite mounts engines with it). No cross-flag checks run.
 */
export function defaultConfig(overrides: Partial<OptionValues> & { bucket?: string } = {}): ResolvedConfig {
  const defaults: Record<string, unknown> = {};
  for (const key of OPTION_KEYS) {
    const spec = OPTION_TABLE[key] as { default?: unknown };
    if (spec.default !== undefined) defaults[key] = spec.default;
  }
  // As the command line: 0600, or 0400 with readOnly (the C tool's s3b_config.c).
  const fileMode = overrides.readOnly === true ? 0o400 : 0o600;
  return Object.freeze({ ...defaults, fileMode, bucket: 'volume', ...overrides }) as ResolvedConfig;
}
