/**
 * The zstd implementation the plugin uses, whichever was found: Node's own (node:zlib, Node >=
 * 22.15) or the `zstd-napi` package. Both make what the C tool's `ZSTD_compress()` makes: one
 * frame with the content size and no checksum (compress.c, zstd_compress).
 */
export interface ZstdLibrary {
  /** Where it comes from and its zstd version, for messages and the test report, e.g. "zstd-napi (zstd 1.5.7)". */
  readonly description: string;
  /**
   * Its calls do their work on the calling thread before they return (zstd-napi): the plugin
   * then moves big blocks to the codec worker threads (pooled-zstd.ts). node:zlib's runs on
   * libuv's pool already.
   */
  readonly synchronous?: boolean;
  /** The zstd levels this build accepts (ZSTD_minCLevel() .. ZSTD_maxCLevel()), when it says. */
  readonly levels: { readonly min: number; readonly max: number } | undefined;
  /** One frame with the content size, no checksum; level 0 means zstd's default (3). */
  compress(data: Buffer, level: number): Promise<Buffer>;
  /** Decompress, failing (never allocating more) when the result would exceed `limit` bytes. */
  decompress(body: Buffer, limit: number): Promise<Buffer>;
}

/** A loader's answer: the library, or why there is none (with what to do about it). */
export type ZstdLoadResult = { readonly library: ZstdLibrary } | { readonly unavailable: string };

/** Finds a zstd library; called once per plugin instance, at mount or at the first zstd block. */
export type ZstdLoader = () => Promise<ZstdLoadResult>;

let loading: Promise<ZstdLoadResult> | undefined;

/**
 * Node's zlib zstd where the running Node has it (async, on libuv's thread pool), else the
 * optional `zstd-napi` package. Loaded at first need, never at module load: `s3backer --help` and
 * mounts that never meet a zstd block load no codec library. The answer is cached per process.
 */
export const loadZstdLibrary: ZstdLoader = () => {
  loading ??= (async (): Promise<ZstdLoadResult> => {
    const { nodeZlibZstd } = await import('./node-zlib-zstd.js');
    const builtIn = await nodeZlibZstd();
    if (builtIn) return { library: builtIn };
    const { zstdNapi } = await import('./zstd-napi-library.js');
    try {
      return { library: await zstdNapi() };
    } catch (error) {
      const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
      return {
        unavailable: `no zstd library could be loaded: Node ${process.versions.node} has no zstd in node:zlib (it needs Node >= 22.15) and the optional package "zstd-napi" did not load (${reason}). Run s3backer on Node >= 22.15, or install it with a C++ toolchain present (g++, make, python3): npm install zstd-napi`,
      };
    }
  })();
  return loading;
};
