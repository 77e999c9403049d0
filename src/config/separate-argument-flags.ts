import type { OptionKey } from './options.js';

/**
 * The long flags that also take their value as the next argument (`--config FILE` as well as
 * `--config=FILE`): the two that name a file. Every other flag needs `=`, as the C tool's fuse_opt
 * templates do (s3b_config.c, its option_list of `--name=%s` entries): with a space, `--size 1g`
 * would be ambiguous with a bare on/off flag followed by the bucket, and `--compress bucket` would
 * swallow the bucket. The C tool's own separate-argument forms are short ones, `-F FILE` and
 * `-o LIST` (s3b_config.c, its --configFile expansion), and work here too.
 */
export const SEPARATE_ARGUMENT_FLAGS: ReadonlySet<OptionKey> = new Set<OptionKey>(['config', 'configFile']);
