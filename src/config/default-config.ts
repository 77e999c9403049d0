import { OPTION_DEFAULTS, type OptionValues } from './options.js';
import type { ResolvedConfig } from './resolved-config.js';

/**
 * A ResolvedConfig from the option table's defaults and `overrides`, with no command line and no
 * config file: for programs that build an Engine themselves, and for the conformance suites'
 * `config` option (the block-device suite mounts engines with it). No cross-flag checks run.
 */
export function defaultConfig(overrides: Partial<OptionValues> & { bucket?: string } = {}): ResolvedConfig {
  // As the command line: 0600, or 0400 with readOnly (the C tool's s3b_config.c).
  const fileMode = overrides.readOnly === true ? 0o400 : 0o600;
  return Object.freeze({ ...OPTION_DEFAULTS, fileMode, bucket: 'volume', ...overrides });
}
