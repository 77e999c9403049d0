// The codecs' raw library speed, the ceilings the pipeline is compared with: the same work on the
// same blocks, (a) synchronously on the main thread (one core), (b) through the library's async
// API with several blocks in flight (libuv's thread pool: every core). No engine, no hooks, no
// store: only the library calls and the output buffers they allocate.
import * as zlib from 'node:zlib';
import { createCipheriv, createDecipheriv, createHmac, timingSafeEqual, webcrypto } from 'node:crypto';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadZstdLibrary } from '../../plugins/compress-zstd/zstd-library.js';

const require = createRequire(import.meta.url);

/** A block on its way to the store: the body, plus the HMAC the encrypting codec signs it with. */
export interface RawEncoded {
  body: Buffer;
  tag?: Buffer;
}

export interface RawCodec {
  name: string;
  /** The library behind it, e.g. "node:zlib (zlib 1.3.0.1-motley)". */
  library: string;
  encodeSync(data: Buffer, block: number): RawEncoded;
  decodeSync(encoded: RawEncoded, block: number, blockSize: number): Buffer;
  /** Off the main thread (libuv's pool); undefined when the library has no async API (the reason is in `noAsync`). */
  encodeAsync?(data: Buffer, block: number): Promise<RawEncoded>;
  decodeAsync?(encoded: RawEncoded, block: number, blockSize: number): Promise<Buffer>;
  noAsync?: string;
}

type Callback = (error: Error | null, result: Buffer) => void;
const promised = (call: (callback: Callback) => void) => new Promise<Buffer>((resolve, reject) => call((error, result) => (error ? reject(error) : resolve(result))));

/**
 * zlib with its output buffer (`chunkSize`) as large as the result can be: the whole block for
 * inflate, zlib's bound for deflate, so each call is one pass of zlib into one buffer. With the
 * default 16 KiB chunks the async API goes back to the main thread between chunks (4 round trips
 * for a 64 KiB block, 64 for 1 MiB) and then concatenates them: that is the API used badly, not
 * the library's speed.
 */
export function deflateCodec(level: number): RawCodec {
  const bound = (size: number) => size + (size >> 8) + 64;
  return {
    name: `deflate-${level}`,
    library: `node:zlib (zlib ${process.versions.zlib}), chunkSize = output bound`,
    encodeSync: (data) => ({ body: zlib.deflateSync(data, { level, chunkSize: bound(data.length) }) }),
    decodeSync: ({ body }, _block, blockSize) => zlib.inflateSync(body, { maxOutputLength: blockSize, chunkSize: blockSize }),
    encodeAsync: async (data) => ({ body: await promised((cb) => zlib.deflate(data, { level, chunkSize: bound(data.length) }, cb)) }),
    decodeAsync: ({ body }, _block, blockSize) => promised((cb) => zlib.inflate(body, { maxOutputLength: blockSize, chunkSize: blockSize }, cb)),
  };
}

interface NodeZstd {
  zstdCompressSync(data: Buffer, options: object): Buffer;
  zstdDecompressSync(data: Buffer, options: object): Buffer;
  zstdCompress(data: Buffer, options: object, callback: Callback): void;
  zstdDecompress(data: Buffer, options: object, callback: Callback): void;
  constants: Record<string, number>;
}

interface ZstdNapiBinding {
  CCtx: new () => { compress(dst: Uint8Array, src: Uint8Array, level: number): number };
  DCtx: new () => { decompress(dst: Uint8Array, src: Uint8Array): number };
  compressBound(size: number): number;
}

/**
 * zstd through the library the zstd plugin picks (its loader decides): node:zlib's on Node >=
 * 22.15 (sync and async), else zstd-napi's binding (ZSTD_compressCCtx / ZSTD_decompressDCtx, sync
 * only: the package has no async call).
 */
export async function zstdCodec(level: number): Promise<RawCodec | string> {
  const loaded = await loadZstdLibrary();
  if (!('library' in loaded)) return loaded.unavailable;
  const library = loaded.library.description;
  const z = zlib as unknown as Partial<NodeZstd>;
  if (library.startsWith('node:zlib') && z.zstdCompressSync && z.constants) {
    const nz = z as NodeZstd;
    const options = (size: number) => ({ pledgedSrcSize: size, params: { [nz.constants.ZSTD_c_compressionLevel!]: level, [nz.constants.ZSTD_c_checksumFlag!]: 0 } });
    return {
      name: `zstd-${level}`, library,
      encodeSync: (data) => ({ body: nz.zstdCompressSync(data, options(data.length)) }),
      decodeSync: ({ body }, _block, blockSize) => nz.zstdDecompressSync(body, { maxOutputLength: blockSize }),
      encodeAsync: async (data) => ({ body: await promised((cb) => nz.zstdCompress(data, options(data.length), cb)) }),
      decodeAsync: ({ body }, _block, blockSize) => promised((cb) => nz.zstdDecompress(body, { maxOutputLength: blockSize }, cb)),
    };
  }
  const binding = require('zstd-napi/binding.js') as ZstdNapiBinding;
  const cctx = new binding.CCtx();
  const dctx = new binding.DCtx();
  let scratch = Buffer.alloc(0);
  return {
    name: `zstd-${level}`, library,
    encodeSync: (data) => {
      const bound = binding.compressBound(data.length);
      if (scratch.length < bound) scratch = Buffer.allocUnsafe(bound);
      // Copied out, as a caller that keeps the body must (the plugin does the same).
      return { body: Buffer.from(scratch.subarray(0, cctx.compress(scratch, data, level))) };
    },
    decodeSync: ({ body }, _block, blockSize) => {
      const out = Buffer.allocUnsafe(blockSize);
      const length = dctx.decompress(out, body);
      return length === blockSize ? out : out.subarray(0, length);
    },
    noAsync: 'zstd-napi has no async call (Node < 22.15 has no zstd in node:zlib)',
  };
}

interface Lz4Napi {
  compressSync(data: Buffer): Buffer;
  uncompressSync(data: Uint8Array): Buffer;
  compress(data: Uint8Array): Promise<Buffer>;
  uncompress(data: Uint8Array): Promise<Buffer>;
  compressFrameSync(data: Buffer, options?: { contentChecksum?: boolean }): Buffer;
  decompressFrameSync(data: Buffer): Buffer;
  compressFrame(data: Uint8Array, options?: { contentChecksum?: boolean }): Promise<Buffer>;
  decompressFrame(data: Uint8Array): Promise<Buffer>;
}

/**
 * lz4-napi (lz4_flex). `frame`: one LZ4 frame with an xxHash32 content checksum, the lz4
 * plugin's format (compressFrame/decompressFrame); else the bare block format with a size prefix
 * (compressSync/uncompressSync). Async: napi-rs tasks on libuv's pool.
 */
export function lz4Codec(frame: boolean): RawCodec {
  const lz4 = require('lz4-napi') as Lz4Napi;
  // Its package.json is not exported: read it next to the resolved entry point.
  const version = (JSON.parse(readFileSync(join(dirname(require.resolve('lz4-napi')), 'package.json'), 'utf8')) as { version: string }).version;
  const library = `lz4-napi ${version} (lz4_flex)`;
  if (frame) {
    return {
      name: 'lz4', library: `${library}, frame + content checksum`,
      encodeSync: (data) => ({ body: lz4.compressFrameSync(data, { contentChecksum: true }) }),
      decodeSync: ({ body }) => lz4.decompressFrameSync(body),
      encodeAsync: async (data) => ({ body: await lz4.compressFrame(data, { contentChecksum: true }) }),
      decodeAsync: ({ body }) => lz4.decompressFrame(body),
    };
  }
  return {
    name: 'lz4 block format', library: `${library}, compressSync/uncompressSync`,
    encodeSync: (data) => ({ body: lz4.compressSync(data) }),
    decodeSync: ({ body }) => lz4.uncompressSync(body),
    encodeAsync: async (data) => ({ body: await lz4.compress(data) }),
    decodeAsync: ({ body }) => lz4.uncompress(body),
  };
}

/** The C tool's IV input: `%08x` of the block number in a zeroed 16-byte buffer (block-iv.ts). */
function ivSource(block: number): Buffer {
  const source = Buffer.alloc(16);
  source.write(block.toString(16).padStart(8, '0'), 'latin1');
  return source;
}

/**
 * AES-128-CBC + HMAC-SHA1 over `%08x` block number, cipher name and ciphertext: the C tool's
 * block format (http_io.c), the same bytes as the encrypt plugin. Sync: createCipheriv per block
 * (the IV is per block), the IV from one reused AES-ECB context (CBC over one block with IV =
 * ivkey[0..16) is ECB of the source XOR ivkey[0..16)), createHmac per block. Async: WebCrypto,
 * whose AES-CBC and HMAC jobs run on libuv's pool.
 */
export async function aesHmacCodec(key: Buffer, ivkey: Buffer): Promise<RawCodec> {
  const CIPHER = 'AES-128-CBC';
  const ecb = createCipheriv('aes-128-ecb', ivkey.subarray(0, 16), null).setAutoPadding(false);
  const iv = (block: number) => {
    const source = ivSource(block);
    for (let i = 0; i < 16; i++) source[i]! ^= ivkey[i]!;
    return ecb.update(source);
  };
  const header = (block: number) => Buffer.from(block.toString(16).padStart(8, '0') + CIPHER, 'latin1');
  const hmac = (block: number, body: Buffer) => createHmac('sha1', key).update(header(block)).update(body).digest();
  const subtle = webcrypto.subtle;
  const aesKey = await subtle.importKey('raw', key.subarray(0, 16), { name: 'AES-CBC' }, false, ['encrypt', 'decrypt']);
  const macKey = await subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-1' }, false, ['sign', 'verify']);
  const signed = (block: number, body: Buffer) => Buffer.concat([header(block), body]);
  return {
    name: 'aes-128-cbc+hmac-sha1', library: `node:crypto (OpenSSL ${process.versions.openssl}); async: WebCrypto subtle`,
    encodeSync: (data, block) => {
      const cipher = createCipheriv('aes-128-cbc', key.subarray(0, 16), iv(block));
      const body = Buffer.concat([cipher.update(data), cipher.final()]);
      return { body, tag: hmac(block, body) };
    },
    decodeSync: ({ body, tag }, block) => {
      if (!timingSafeEqual(tag!, hmac(block, body))) throw new Error(`block ${block}: HMAC mismatch`);
      const decipher = createDecipheriv('aes-128-cbc', key.subarray(0, 16), iv(block));
      return Buffer.concat([decipher.update(body), decipher.final()]);
    },
    encodeAsync: async (data, block) => {
      const body = Buffer.from(await subtle.encrypt({ name: 'AES-CBC', iv: iv(block) }, aesKey, data));
      return { body, tag: Buffer.from(await subtle.sign('HMAC', macKey, signed(block, body))) };
    },
    decodeAsync: async ({ body, tag }, block) => {
      if (!(await subtle.verify('HMAC', macKey, tag!, signed(block, body)))) throw new Error(`block ${block}: HMAC mismatch`);
      return Buffer.from(await subtle.decrypt({ name: 'AES-CBC', iv: iv(block) }, aesKey, body));
    },
  };
}

/**
 * `inner` then `outer` on write (compress, then encrypt), the reverse on read: the pipeline's
 * order. Async when at least one side has an async API; a side without one runs its sync form on
 * the main thread inside the async chain (the best these libraries allow), and `noAsync` says so.
 */
export function chainCodecs(inner: RawCodec, outer: RawCodec): RawCodec {
  const limit = (blockSize: number) => 2 * blockSize + 64 * 1024;
  const encodeA = (codec: RawCodec) => codec.encodeAsync ?? (async (data: Buffer, block: number) => codec.encodeSync(data, block));
  const decodeA = (codec: RawCodec) => codec.decodeAsync ?? (async (encoded: RawEncoded, block: number, blockSize: number) => codec.decodeSync(encoded, block, blockSize));
  const anyAsync = Boolean(inner.encodeAsync || outer.encodeAsync);
  const partly = [inner, outer].filter((codec) => !codec.encodeAsync).map((codec) => `${codec.name} sync on the main thread (${codec.noAsync ?? 'no async API'})`);
  return {
    name: `${inner.name} + ${outer.name}`,
    library: `${inner.library}; ${outer.library}`,
    encodeSync: (data, block) => outer.encodeSync(inner.encodeSync(data, block).body, block),
    decodeSync: (encoded, block, blockSize) => inner.decodeSync({ body: outer.decodeSync(encoded, block, limit(blockSize)) }, block, blockSize),
    ...(anyAsync ? {
      encodeAsync: async (data: Buffer, block: number) => encodeA(outer)((await encodeA(inner)(data, block)).body, block),
      decodeAsync: async (encoded: RawEncoded, block: number, blockSize: number) => decodeA(inner)({ body: await decodeA(outer)(encoded, block, limit(blockSize)) }, block, blockSize),
    } : {}),
    ...(partly.length ? { noAsync: partly.join('; ') } : {}),
  };
}
