import * as zlib from 'node:zlib';
import type { ZstdLibrary } from './zstd-library.js';
import { zstdFrameContentSize, zstdFrameProblem } from './zstd-frame.js';

type Callback = (error: Error | null, result: Buffer) => void;
/** The part of Node >= 22.15's zstd API used here (Node 20's @types/node does not declare it). */
interface NodeZstd {
  zstdCompress(data: Buffer, options: object, callback: Callback): void;
  zstdDecompress(data: Buffer, options: object, callback: Callback): void;
  constants: Record<string, number>;
}

/**
 * zstd from node:zlib, or undefined on a Node without it (< 22.15). Async: it runs on libuv's
 * thread pool like the deflate codec, so several blocks use several cores.
 */
export async function nodeZlibZstd(): Promise<ZstdLibrary | undefined> {
  const z = zlib as unknown as Partial<NodeZstd>;
  if (typeof z.zstdCompress !== 'function' || typeof z.zstdDecompress !== 'function' || !z.constants) return undefined;
  const { zstdCompress, zstdDecompress } = z as NodeZstd;
  const { ZSTD_c_compressionLevel, ZSTD_c_contentSizeFlag, ZSTD_c_checksumFlag } = z.constants;
  if (ZSTD_c_compressionLevel === undefined || ZSTD_c_contentSizeFlag === undefined || ZSTD_c_checksumFlag === undefined) return undefined;
  return {
    description: `node:zlib (Node ${process.versions.node}${process.versions.zstd ? `, zstd ${process.versions.zstd}` : ''})`,
    levels: undefined,
    compress: (data, level) => new Promise((resolve, reject) => {
      // A streaming compressor writes the content size only when it knows it: pledge it, and
      // ask for it explicitly (ZSTD_c_contentSizeFlag, the default anyway) with no checksum, as
      // ZSTD_compress() does; then check the header really has it.
      zstdCompress(data, {
        pledgedSrcSize: data.length,
        params: { [ZSTD_c_compressionLevel]: level, [ZSTD_c_contentSizeFlag]: 1, [ZSTD_c_checksumFlag]: 0 },
      }, (error, frame) => {
        if (error) return reject(error);
        if (zstdFrameContentSize(frame) !== data.length) {
          return reject(new Error(`node:zlib's zstd wrote a frame without the content size ${data.length}; the C tool's format (ZSTD_compress) records it`));
        }
        resolve(frame);
      });
    }),
    decompress: (body, limit) => new Promise((resolve, reject) => {
      // node:zlib decodes a truncated frame without error and ignores trailing bytes: check the
      // frame's structure first, and the content size it records after, as ZSTD_decompress() does.
      const problem = zstdFrameProblem(body);
      if (problem !== undefined) return reject(new Error(`not a complete zstd frame: ${problem}`));
      zstdDecompress(body, { maxOutputLength: limit }, (error, data) => {
        if (error) return reject(error);
        const recorded = zstdFrameContentSize(body);
        if (recorded !== undefined && recorded !== data.length) return reject(new Error(`the zstd frame records ${recorded} bytes but decodes to ${data.length}`));
        resolve(data);
      });
    }),
  };
}
