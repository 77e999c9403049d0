import type { OptionValues, KeysWithDefault } from './options.js';

/**
 * The frozen, fully defaulted configuration: all that plugins ever see (vite's ResolvedConfig).
 * Options with a default are always present; the others only when set.
 */
export type ResolvedConfig = Readonly<
  Pick<OptionValues, KeysWithDefault> & Partial<Omit<OptionValues, KeysWithDefault>> & {
    /** Bucket name (or, for the `dir` store, the directory). */
    bucket: string;
    /** Mount point, for the FUSE frontend. */
    mountPoint?: string;
    /** The kernel NBD device (`/dev/nbdX`) that `--nbd` attaches the export to. */
    nbdDevice?: string;
  }
>;
