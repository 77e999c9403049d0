import { resolve } from 'node:path';
import type { ResolvedConfig } from '../config/resolved-config.js';
import type { S3BackerPlugin } from '../engine/plugin.js';
import { zeroMapPlugin } from '../../plugins/zero-map/index.js';
import { memoryPlugin } from '../../plugins/memory/index.js';
import { dirPlugin } from '../../plugins/dir/index.js';
import { s3Plugin } from '../../plugins/s3/index.js';
import { blockCachePlugin } from '../../plugins/block-cache/index.js';
import { deflatePlugin } from '../../plugins/compress-deflate/index.js';
import { zstdPlugin } from '../../plugins/compress-zstd/index.js';
import { lz4Plugin } from '../../plugins/compress-lz4/index.js';
import { encryptPlugin } from '../../plugins/encrypt-hmac/index.js';
import { md5ProtectFromConfig } from '../../plugins/md5-protect/index.js';
import { chaosFromTestFlags } from '../../plugins/chaos/index.js';
import { retryPlugin } from '../../plugins/retry/index.js';
import { storeLimitsPlugin } from '../../plugins/store-limits/index.js';
import { S3BackerError } from '../errors/s3backer-error.js';

export interface ApplyOptionsSettings {
  /**
   * Add the codecs (default true). Maintenance commands (erase, reset the mounted flag) read and
   * write no block data, so they neither need them nor the password.
   */
  codecs?: boolean;
  /** The config file's plugins (ResolvedCommandLine.plugins): applied first, in order. */
  plugins?: readonly S3BackerPlugin[];
}

type CompressionAlgorithm = 'deflate' | 'zstd' | 'lz4';

/**
 * Which compressor encodes new blocks: `--compress[=ALG]`, the C tool's legacy `--compress=LEVEL`
 * (deflate at that level), and deflate when only `--encrypt` is given (the C tool always compresses
 * before encrypting, http_io.c).
 */
export function chosenCompression(config: ResolvedConfig): { algorithm: CompressionAlgorithm; level: number | undefined } | undefined {
  const { compress, compressLevel, encrypt } = config;
  if (compress === undefined) return encrypt === undefined ? undefined : { algorithm: 'deflate', level: compressLevel };
  if (/^-?\d+$/.test(compress)) return { algorithm: 'deflate', level: Number(compress) };
  return { algorithm: compress.toLowerCase() as CompressionAlgorithm, level: compressLevel };
}

/**
 * Every built-in decoder is always present (a block decodes by the encoding it records, so
 * `--compress` may change between mounts); only the chosen compressor also encodes.
 */
function codecPlugins(config: ResolvedConfig): S3BackerPlugin[] {
  const chosen = chosenCompression(config);
  const encodes = (algorithm: CompressionAlgorithm) => chosen?.algorithm === algorithm;
  const level = (algorithm: CompressionAlgorithm) => (encodes(algorithm) && chosen!.level !== undefined ? { level: chosen!.level } : {});
  const plugins = [
    deflatePlugin({ encode: encodes('deflate'), ...level('deflate') }),
    zstdPlugin({ encode: encodes('zstd'), ...level('zstd') }),
    lz4Plugin({ encode: encodes('lz4'), ...level('lz4') }),
  ];
  if (config.encrypt !== undefined) {
    if (config.password === undefined) {
      throw new S3BackerError('S3B_CONFIG_INVALID', '--encrypt needs the volume\'s password: give --password, --passwordFile, or answer the prompt');
    }
    plugins.push(encryptPlugin({ cipher: config.encrypt, password: config.password, ...(config.keyLength === undefined || config.keyLength === 0 ? {} : { keyLength: config.keyLength }) }));
  }
  return plugins;
}

/**
 * Declarative options become built-in plugin instances here, in one place (webpack's
 * WebpackOptionsApply). Plugins from the config file come first, so a third-party store or
 * codec tapped at the same stage wins ties over the built-ins.
 */
export function applyOptions(config: ResolvedConfig, settings: ApplyOptionsSettings = {}): S3BackerPlugin[] {
  return [
    ...(settings.plugins ?? []),
    // --test-delays / --test-errors / --test-discard: the chaos store, around whichever store is chosen.
    ...chaosFromTestFlags(config),
    // Every store is retried (the C tool's back-off, --maxRetryPause) and rate-limited the same way,
    // maintenance commands included: --erase needs retries too.
    retryPlugin(config),
    storeLimitsPlugin(config),
    // --sharedDiskMode: other hosts write the volume too, so nothing may be remembered about it,
    // not even which blocks are zero (the C tool's stack is then http_io alone).
    ...(config.sharedDiskMode ? [] : [zeroMapPlugin({ listBlocks: config.listBlocks, listBlocksThreads: config.listBlocksThreads })]),
    ...(config.blockCacheSize > 0 && !config.sharedDiskMode ? [blockCachePlugin({
      size: config.blockCacheSize, threads: config.blockCacheThreads, writeDelay: config.blockCacheWriteDelay, sync: config.blockCacheSync,
      timeout: config.blockCacheTimeout, maxDirty: config.blockCacheMaxDirty, numProtected: config.blockCacheNumProtected,
      readAhead: config.readAhead, readAheadTrigger: config.readAheadTrigger,
      noVerify: config.blockCacheNoVerify, recoverDirtyBlocks: config.blockCacheRecoverDirtyBlocks,
      ...(config.blockCacheFile === undefined ? {} : { file: resolve(config.blockCacheFile) }),
    })] : []),
    ...md5ProtectFromConfig(config),
    ...(settings.codecs === false ? [] : codecPlugins(config)),
    memoryPlugin(),
    dirPlugin(),
    s3Plugin(),
  ];
}
