/** The part of lz4-napi used here: its LZ4 frame calls, both async (libuv's thread pool). */
export interface Lz4Library {
  compressFrame(data: Uint8Array, options?: { contentChecksum?: boolean; blockChecksums?: boolean }): Promise<Buffer>;
  decompressFrame(data: Uint8Array): Promise<Buffer>;
}

/** A loader's answer: the library, or why there is none (with what to do about it). */
export type Lz4LoadResult = { readonly library: Lz4Library } | { readonly unavailable: string };

/** Finds the lz4 library; called once per plugin instance, at mount or at the first lz4 block. */
export type Lz4Loader = () => Promise<Lz4LoadResult>;

let loading: Promise<Lz4LoadResult> | undefined;

/**
 * The `lz4-napi` package (lz4_flex, prebuilt per platform in npm packages), imported at first
 * need, never at module load: `s3backer --help` and mounts that never meet an lz4 block load no
 * codec library. The answer is cached per process.
 */
export const loadLz4Library: Lz4Loader = () => {
  loading ??= import('lz4-napi').then(
    (loaded): Lz4LoadResult => {
      const module = ((loaded as { default?: unknown }).default ?? loaded) as Partial<Lz4Library>;
      if (typeof module.compressFrame !== 'function' || typeof module.decompressFrame !== 'function') {
        return { unavailable: 'the installed "lz4-napi" has no compressFrame/decompressFrame (it needs lz4-napi >= 2.9): npm install lz4-napi@^2.10' };
      }
      return { library: module as Lz4Library };
    },
    (error: unknown): Lz4LoadResult => {
      const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
      return { unavailable: `the package "lz4-napi" did not load (${reason}); reinstall it for this platform: npm install lz4-napi` };
    },
  );
  return loading;
};
