import type { ZstdLibrary } from './zstd-library.js';

/** The part of zstd-napi's low-level binding used here (declared here: the package is optional, so its types may be absent). */
export interface ZstdNapiBinding {
  CCtx: new () => { compress(dst: Uint8Array, src: Uint8Array, level: number): number };
  DCtx: new () => { decompress(dst: Uint8Array, src: Uint8Array): number };
  compressBound(size: number): number;
  versionString(): string;
  minCLevel(): number;
  maxCLevel(): number;
}

/**
 * zstd from the optional npm package `zstd-napi` (Node 20's zlib has no zstd). It builds zstd from
 * source at install when no prebuilt binary can be fetched (node-gyp, a C++ toolchain).
 *
 * Its binding is used directly: `CCtx.compress` is ZSTD_compressCCtx, the same as the C tool's
 * ZSTD_compress() (compress.c, zstd_compress): one frame with the content size and no checksum,
 * and byte-identical to the C tool's objects (test/fixtures/c-s3backer, zstd 1.5.4 vs this
 * package's 1.5.7). `DCtx.decompress` is ZSTD_decompressDCtx into a buffer of `limit` bytes, as
 * the C tool decompresses into `block_size` bytes: an oversize frame fails ("Destination buffer
 * is too small") without allocating more. The package's high-level `decompress()` is not used:
 * it allocates whatever size the frame header claims.
 *
 * zstd-napi has no async calls (only sync ones and a stream that also runs on the main thread),
 * so these run on the calling thread (`synchronous`). Small blocks stay on the main thread: per
 * block, level 3, the fixtures' pattern and text data, 4 KiB takes 6 µs to compress / 3 µs to
 * decompress, less than a hop to another thread costs. Big blocks go to the codec worker
 * threads, which load this same binding (pooled-zstd.ts has the sizes and the figures).
 */
export async function zstdNapi(): Promise<ZstdLibrary> {
  const binding = await zstdNapiBinding();
  // One context each, reused: the calls are synchronous, so no two blocks share one at a time.
  const cctx = new binding.CCtx();
  const dctx = new binding.DCtx();
  let scratch = Buffer.alloc(0);
  return {
    description: `zstd-napi (zstd ${binding.versionString()})`,
    synchronous: true,
    levels: { min: binding.minCLevel(), max: binding.maxCLevel() },
    async compress(data, level) {
      const bound = binding.compressBound(data.length);
      if (scratch.length < bound) scratch = Buffer.allocUnsafe(bound);
      const length = cctx.compress(scratch, data, level);
      // Copy out: the body must not share the scratch buffer the next block is compressed into.
      return Buffer.from(scratch.subarray(0, length));
    },
    async decompress(body, limit) {
      const out = Buffer.allocUnsafe(limit);
      const length = dctx.decompress(out, body);
      return length === limit ? out : out.subarray(0, length);
    },
  };
}

/** zstd-napi's low-level binding (the main thread's and each codec worker thread's own). */
export async function zstdNapiBinding(): Promise<ZstdNapiBinding> {
  // A variable specifier: the package is optional, so TypeScript must not require it to build.
  const specifier = 'zstd-napi/binding.js';
  const loaded = (await import(specifier)) as { default?: ZstdNapiBinding } & Partial<ZstdNapiBinding>;
  return (loaded.default ?? loaded) as ZstdNapiBinding;
}
