/**
 * The one registry of s3backer error codes. `docs/errors.md` has one section per code; a test keeps
 * the two in sync (fastify's errors test). Codes are stable: messages may change, codes may not.
 *
 * `errno` is what a frontend answers the kernel with when this error ends a request.
 */
export const ERROR_CODES = {
  // --- configuration and command line ---
  S3B_CONFIG_INVALID: { errno: 'EINVAL', summary: 'An option has a value that is not allowed, or options contradict each other.' },
  S3B_CONFIG_UNKNOWN_OPTION: { errno: 'EINVAL', summary: 'A flag, `-o` option or config-file key is not known; the message names the closest valid one.' },
  S3B_CONFIG_FILE: { errno: 'EINVAL', summary: 'The config file (`--config`, `s3backer.config.*`, or a `--configFile` flag file) could not be read or evaluated.' },
  S3B_CONFIG_DUPLICATE_PLUGIN: { errno: 'EINVAL', summary: 'Two plugins with the same name were configured.' },
  S3B_USAGE: { errno: 'EINVAL', summary: 'The command line is missing a required argument (bucket or mount point) or has too many.' },

  // --- engine and plugins ---
  S3B_ENGINE_SEALED: { errno: 'EINVAL', summary: 'A plugin tapped a hook after the engine was sealed; taps belong inside `apply()`.' },
  S3B_ENGINE_STATE: { errno: 'EIO', summary: 'An engine method was called in the wrong lifecycle state (for example I/O before mount or after shutdown).' },
  S3B_PLUGIN_ERROR: { errno: 'EIO', summary: 'A plugin threw an error that is not an s3backer error; `plugin`, `hook` and `cause` say which and why.' },
  S3B_NO_BACKEND: { errno: 'EINVAL', summary: 'No plugin provided an object store for the configured `store`.' },

  // --- the disk ---
  S3B_OUT_OF_RANGE: { errno: 'ENOSPC', summary: 'A read, write or trim reaches past the end of the disk.' },
  S3B_READ_ONLY: { errno: 'EROFS', summary: 'A write or trim was attempted on a disk mounted with `--readOnly`.' },
  S3B_SIZE_REQUIRED: { errno: 'EINVAL', summary: 'The size could not be auto-detected (no block 0 metadata) and `--size` was not given.' },
  S3B_SIZE_MISMATCH: { errno: 'EINVAL', summary: 'The size or block size given differs from what block 0 of the volume records.' },
  S3B_MOUNTED_ELSEWHERE: { errno: 'EBUSY', summary: 'The volume\'s mounted flag is set: another s3backer has it mounted, or one did not shut down cleanly.' },
  S3B_FLUSH_FAILED: { errno: 'EIO', summary: 'Dirty blocks could not be stored: an fsync failed, or an unmount gave up after `--shutdownTimeout`; the message says where the blocks are kept.' },
  S3B_CACHE_FILE: { errno: 'EIO', summary: 'The `--blockCacheFile` cannot be used: another volume\'s or block size\'s file, corrupt, unreadable, or holding dirty blocks of an unknown mount.' },
  S3B_NBD_DEVICE: { errno: 'ENOENT', summary: '`--nbd` could not use the kernel NBD device: it does not exist (no `nbd` module, as in most containers), is not a block device, or `nbd-client` could not attach it.' },
  S3B_MOUNT_POINT: { errno: 'ENOENT', summary: 'The mount point is missing, not a directory, or could not be mounted on.' },

  // --- one-shot commands ---
  S3B_NOT_CONFIRMED: { errno: 'EINVAL', summary: '`--erase` was not confirmed: the answer was not yes, or standard input is not a terminal and `--force` was not given; nothing was deleted.' },
  S3B_ERASE_INCOMPLETE: { errno: 'EIO', summary: '`--erase` left blocks behind (deletes failed, or the store stopped answering); the message names them; the mounted flag and key check are kept, so run it again.' },

  // --- objects and encodings ---
  S3B_UNKNOWN_ENCODING: { errno: 'EIO', summary: 'A stored block records a Content-Encoding that no configured plugin can decode.' },
  S3B_BLOCK_CORRUPT: { errno: 'EIO', summary: 'A stored block decodes to the wrong length (truncated, or the volume\'s `--blockSize` is wrong).' },
  S3B_DECODE_FAILED: { errno: 'EIO', summary: 'A stored block could not be decoded by the codec its Content-Encoding names (a corrupt or truncated compressed body); the message names the block and the token.' },
  S3B_AUTH_FAILED: { errno: 'EIO', summary: 'A block of an encrypted volume failed authentication: its HMAC does not match (tampered, copied from another block, wrong password), is missing, or the object is not encrypted at all; nothing of it is returned as data.' },
  S3B_WRONG_PASSWORD: { errno: 'EACCES', summary: 'The encryption password (or cipher, or `--keyLength`) does not match the one the volume was written with; the mount is refused before anything is written.' },
  S3B_CODEC_CONTRACT: { errno: 'EIO', summary: 'A codec plugin broke the codec contract: two plugins decode one token, an encode tap changed the body without appending a token, or an object would be stored with a token no plugin decodes.' },
  S3B_CODEC_UNAVAILABLE: { errno: 'EINVAL', summary: 'The library a codec needs (zstd, lz4) cannot be loaded on this machine.' },

  // --- backends ---
  S3B_BACKEND_IO: { errno: 'EIO', summary: 'The object store answered with an error that retries did not cure.' },
  S3B_BACKEND_UNREACHABLE: { errno: 'EIO', summary: 'The object store could not be reached (connection refused, DNS, timeout) within the retry budget.' },
  S3B_BACKEND_AUTH: { errno: 'EACCES', summary: 'The object store refused the credentials (unknown access key, bad signature, access denied).' },
  S3B_BUCKET_NOT_FOUND: { errno: 'ENOENT', summary: 'The bucket (or the `--test` directory) does not exist.' },
  S3B_STORE_CLOSED: { errno: 'EIO', summary: 'An object store was used after `close()`.' },
  S3B_STORE_ABORTED: { errno: 'EIO', summary: 'A store request was abandoned unanswered: the unmount\'s `--shutdownTimeout` expired while the store did not answer (a hung server).' },
  S3B_STALE_READ: { errno: 'EIO', summary: 'With `--md5CacheSize`, a block read kept returning an older version of the object than the one this mount wrote, for longer than `--maxRetryPause`; the store is only eventually consistent, and this copy has not caught up.' },
} as const satisfies Record<string, { errno: ErrnoName; summary: string }>;

export type ErrnoName = 'EINVAL' | 'EIO' | 'ENOSPC' | 'EROFS' | 'EBUSY' | 'ENOENT' | 'EACCES';
export type ErrorCode = keyof typeof ERROR_CODES;
