import { parseSize, formatSize } from './parse-size.js';

/**
 * OPTION_TABLE is the single source of truth for every option: flag parsing (the C tool's names,
 * `--name=value`, `-o name=value`), the `defineConfig` types, `--help`, and `docs/config.md` all
 * derive from it, and a test fails when they drift.
 */
export type OptionGroup = 'volume' | 'store' | 's3' | 'cache' | 'codec' | 'fuse' | 'nbd' | 'general';

interface OptionBase<T> {
  /** The flag name, as the C s3backer spells it (without `--`). */
  flag: string;
  group: OptionGroup;
  /** One line for `--help` and docs/config.md. */
  doc: string;
  default?: T;
  /** Shown in help and docs instead of the default when the default is computed. */
  defaultText?: string;
  /** Only on the command line (not a config-file key), e.g. `--help`. */
  cliOnly?: boolean;
  /** Extra single-letter or legacy spellings. */
  aliases?: readonly string[];
  /** Value placeholder for help text. */
  metavar?: string;
  /** Returns an error message for a bad value. */
  validate?: (value: T) => string | undefined;
}
export interface BooleanOption extends OptionBase<boolean> { type: 'boolean' }
export interface StringOption extends OptionBase<string> {
  type: 'string';
  /** The value a bare `--flag` (no `=VALUE`) means, for the C tool's `--compress[=ALG]` and `--encrypt[=CIPHER]`. */
  bareValue?: string;
}
export interface IntegerOption extends OptionBase<number> { type: 'integer'; min?: number; max?: number }
export interface SizeOption extends OptionBase<number> { type: 'size' }
export interface OctalOption extends OptionBase<number> { type: 'octal' }
export interface EnumOption<V extends string = string> extends OptionBase<V> { type: 'enum'; values: readonly V[] }
export type OptionSpec = BooleanOption | StringOption | IntegerOption | SizeOption | OctalOption | EnumOption;

const noSlash = (what: string) => (value: string) => (value.includes('/') ? `${what} may not contain "/"` : undefined);


export const OPTION_TABLE = {
  // --- the volume ---
  size: { flag: 'size', type: 'size', group: 'volume', metavar: 'SIZE', defaultText: 'auto-detected from block 0',
    doc: 'Size of the disk file, e.g. 100g; a multiple of the block size. Required when auto-detection finds nothing.' },
  blockSize: { flag: 'blockSize', type: 'size', group: 'volume', metavar: 'SIZE', defaultText: 'auto-detected, else 4k',
    doc: 'Size of one block (one object): a power of two from 512 to 1g.' },
  prefix: { flag: 'prefix', type: 'string', group: 'volume', default: '', metavar: 'STRING',
    doc: 'Prefix of every object name, used exactly as given (`bucket/subdir` on the command line means `--prefix=subdir/`).' },
  blockHashPrefix: { flag: 'blockHashPrefix', type: 'boolean', group: 'volume', default: false,
    doc: 'Put the C tool\'s `%08x-` hash in front of each block number, spreading keys over S3 partitions.' },
  force: { flag: 'force', type: 'boolean', group: 'volume', default: false,
    doc: 'Mount despite a size mismatch or a set mounted flag (the other mount may still be writing!).' },
  noAutoDetect: { flag: 'noAutoDetect', type: 'boolean', group: 'volume', default: false,
    doc: 'Do not read the size and block size from block 0; `--size` is then required.' },
  readOnly: { flag: 'readOnly', type: 'boolean', group: 'volume', default: false,
    doc: 'Refuse writes (EROFS); the disk file gets mode 0400 and the mounted flag is only checked, never written. When no credentials are found, an s3 read-only mount sends anonymous requests (public buckets).' },
  erase: { flag: 'erase', type: 'boolean', group: 'volume', default: false, cliOnly: true,
    doc: 'Delete every block of the volume, then its mounted flag, and exit. Without `--force` it asks on a terminal and refuses elsewhere; a volume whose mounted flag is set is refused unless `--force` (with a warning). Blocks go 1000 per request (S3 DeleteObjects) where the store allows; exits non-zero if any block is left.' },
  resetMountedFlag: { flag: 'reset-mounted-flag', type: 'boolean', group: 'volume', default: false, cliOnly: true,
    doc: 'Clear the volume\'s mounted flag (after a crash), and with `--blockCacheFile` the mount token recorded in that cache file, then exit. A cache file in use or of another volume is refused.' },

  // --- consistency and the block survey ---
  listBlocks: { flag: 'listBlocks', type: 'boolean', group: 'volume', default: false,
    doc: 'At mount, list the volume\'s objects in the background so blocks never written are known to be zeros (no GET, no DELETE for them) while I/O goes on.' },
  listBlocksThreads: { flag: 'listBlocksThreads', type: 'integer', group: 'volume', default: 16, min: 1, max: 1000, metavar: 'N',
    doc: 'Listing requests in flight at once for --listBlocks (the key space is split into N ranges); only with --listBlocks.' },
  md5CacheSize: { flag: 'md5CacheSize', type: 'integer', group: 'volume', default: 0, min: 0, metavar: 'N',
    doc: 'Remember the ETag of this many recently written blocks and read them back only if unchanged, for stores with weaker consistency than AWS S3; 0 disables. No effect with --readOnly (nothing is written), as in the C tool.' },
  md5CacheTime: { flag: 'md5CacheTime', type: 'integer', group: 'volume', default: 0, min: 0, metavar: 'MS',
    doc: 'How long a written block\'s ETag is remembered (0 = until evicted); needs --md5CacheSize, and at least --minWriteDelay. No effect with --readOnly.' },
  minWriteDelay: { flag: 'minWriteDelay', type: 'integer', group: 'volume', default: 0, min: 0, metavar: 'MS',
    doc: 'Least time between two writes of the same block (needs --md5CacheSize). No effect with --readOnly.' },
  sharedDiskMode: { flag: 'sharedDiskMode', type: 'boolean', group: 'volume', default: false,
    doc: 'For cluster filesystems (GFS2, OCFS2) mounted from several hosts: no caching at all, every read and write goes to the store, and the mounted flag is shared. As in the C tool, the block cache, --listBlocks and MD5 cache flags (and --blockCacheFile) cannot be given with it.' },

  // --- which store ---
  store: { flag: 'store', type: 'string', group: 'store', default: 's3', metavar: 'NAME',
    doc: 'Where blocks live: `s3` (the bucket), `dir` (a local directory, one file per block), `memory` (lost at exit; for tests and benchmarks), or a store a plugin registers under this name.',
    validate: (v: string) => (/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(v) ? undefined : 'must be a store name such as s3, dir or memory') },
  test: { flag: 'test', type: 'boolean', group: 'store', default: false,
    doc: 'The C tool\'s local-directory mode: the same as `--store=dir`; the bucket argument is the directory.' },

  testDelays: { flag: 'test-delays', type: 'boolean', group: 'store', default: false,
    doc: 'Delay each store request by a random 0-199 ms, as the C tool\'s test mode does (through the chaos store, docs/plugins.md).' },
  testErrors: { flag: 'test-errors', type: 'boolean', group: 'store', default: false,
    doc: 'Fail a random share of store requests with retryable errors (through the chaos store; the C tool\'s flag does nothing).' },
  testDiscard: { flag: 'test-discard', type: 'boolean', group: 'store', default: false,
    doc: 'Discard every write and read zeros, without touching the store (the C tool\'s test mode flag; for measuring the layers above the store).' },

  // --- S3 ---
  baseURL: { flag: 'baseURL', type: 'string', group: 's3', metavar: 'URL', defaultText: 'https://s3.amazonaws.com/ (or the region\'s endpoint)',
    doc: 'S3 endpoint, e.g. http://127.0.0.1:4568/; must start with http:// or https://.',
    validate: (v: string) => (/^https?:\/\/[^/]+/i.test(v) ? undefined : 'must start with http:// or https:// and name a host') },
  region: { flag: 'region', type: 'string', group: 's3', default: 'us-east-1', metavar: 'REGION',
    doc: 'S3 region for request signing (and the default endpoint).' },
  vhost: { flag: 'vhost', type: 'boolean', group: 's3', defaultText: 'off for --baseURL, on with a --region other than us-east-1',
    doc: 'Virtual-hosted-style requests (bucket in the host name); `--no-vhost` forces path style.' },
  ssl: { flag: 'ssl', type: 'boolean', group: 's3', default: false,
    doc: 'Use https for the default endpoint; an explicit --baseURL must then be https too.' },
  accessId: { flag: 'accessId', type: 'string', group: 's3', metavar: 'ID', defaultText: 'from --accessFile, else the AWS SDK chain',
    doc: 'Access key ID. An empty value (`--accessId=`) means anonymous requests (public buckets, with --readOnly).' },
  accessKey: { flag: 'accessKey', type: 'string', group: 's3', metavar: 'KEY', defaultText: 'from --accessFile or --accessKeyEnv',
    doc: 'Secret access key.' },
  accessFile: { flag: 'accessFile', type: 'string', group: 's3', metavar: 'FILE', defaultText: '~/.s3backer_passwd',
    doc: 'File of `accessID:accessKey` lines; the first entry is used, or the one matching --accessId.' },
  accessKeyEnv: { flag: 'accessKeyEnv', type: 'string', group: 's3', metavar: 'VAR',
    doc: 'Name of the environment variable holding the secret access key.' },
  accessType: { flag: 'accessType', type: 'enum', group: 's3', default: 'private', values: ['private', 'public-read', 'public-read-write', 'authenticated-read'],
    doc: 'Canned ACL (`x-amz-acl`) sent with every PUT.' },
  timeout: { flag: 'timeout', type: 'integer', group: 's3', default: 30, min: 1, metavar: 'SECONDS',
    doc: 'Time limit for one attempt of a request (for S3, one HTTP request, connection included); a longer one is abandoned and may be retried. One request, all its attempts and pauses together, gives up after --timeout + --maxRetryPause (60 s with the defaults).' },
  initialRetryPause: { flag: 'initialRetryPause', type: 'integer', group: 's3', default: 200, min: 0, metavar: 'MS',
    doc: 'First pause before retrying a failed request (5xx, 503 SlowDown and 429, timeouts, broken connections; never 401 or 403); the pause doubles after each try. Each pause is drawn at random between 0 and that value (full jitter); the last waits out what is left of --maxRetryPause.' },
  maxRetryPause: { flag: 'maxRetryPause', type: 'integer', group: 's3', default: 30000, min: 0, metavar: 'MS',
    doc: 'Total pause budget across the retries of one request; once spent, the error is reported. The request as a whole, attempts included, ends by --timeout + --maxRetryPause.' },

  authVersion: { flag: 'authVersion', type: 'enum', group: 's3', default: 'aws4', values: ['aws2', 'aws4'],
    doc: 'Request signature version. Only `aws4` is sent: AWS retired signature version 2, so `aws2` is refused with an explanation.',
    validate: (v: string) => (v === 'aws2' ? 'aws2 (signature version 2) is not supported: AWS S3 and current S3 servers accept aws4, which is always used' : undefined) },
  accessEC2IAM: { flag: 'accessEC2IAM', type: 'string', group: 's3', metavar: 'ROLE',
    doc: 'Take the keys of this IAM role from the EC2 instance metadata service (the AWS SDK\'s provider; refreshed before they expire; the mount fails if ROLE is not the instance\'s role). No access file is read, and --accessId, --accessKey, --accessKeyEnv and --accessFile cannot be given with it.' },
  accessEC2IAMv2: { flag: 'accessEC2IAM-IMDSv2', type: 'boolean', group: 's3', default: false,
    doc: 'Only the IMDSv2 token flow for --accessEC2IAM: without this flag the token flow is tried first and IMDSv1 is the fallback; only with --accessEC2IAM.' },
  cacert: { flag: 'cacert', type: 'string', group: 's3', metavar: 'FILE',
    doc: 'PEM file of the certificate authorities to trust for the https endpoint, in place of the ones Node trusts; read and checked at mount (refused with an http:// --baseURL).' },
  insecure: { flag: 'insecure', type: 'boolean', group: 's3', default: false,
    doc: 'Do not verify the https server\'s certificate (for test servers with self-signed certificates only; refused with an http:// --baseURL).' },
  http11: { flag: 'http11', type: 'boolean', group: 's3', default: false,
    doc: 'Accepted for the C tool\'s command lines; requests always use HTTP/1.1 here (the C tool\'s flag turns off libcurl\'s HTTP/2).' },
  noCurlCache: { flag: 'noCurlCache', type: 'boolean', group: 's3', default: false,
    doc: 'Open a new connection for every request and close it after the answer, instead of keeping connections alive (the C tool\'s flag disables its pool of libcurl handles).' },
  ipTOS: { flag: 'ipTOS', type: 'string', group: 's3', metavar: 'TOS',
    doc: 'IP type-of-service byte for connections to the store: 0-255 (decimal, 0x hex or 0 octal) or lowdelay, throughput, reliability, lowcost, mincost. Accepted, but Node 20 cannot set the TOS byte: the mount then logs a warning and connections keep the system default; a Node with `net.Socket#setTypeOfService` sets it on every connection.',
    validate: (v: string) => (/^(lowdelay|throughput|reliability|lowcost|mincost)$/i.test(v) || (/^(0x[0-9a-f]+|0[0-7]*|[1-9]\d*)$/i.test(v) && Number(v.startsWith('0') && !/^0x/i.test(v) ? parseInt(v, 8) : Number(v)) <= 255)
      ? undefined : 'must be a number from 0 to 255 or one of lowdelay, throughput, reliability, mincost') },
  maxUploadSpeed: { flag: 'maxUploadSpeed', type: 'size', group: 's3', metavar: 'BITS/S',
    doc: 'Limit upload bandwidth, in bits per second (e.g. 100m): the bytes of blocks sent, all requests together (the C tool caps each transfer). One block must move within --timeout at this speed, or the configuration is refused.' },
  maxDownloadSpeed: { flag: 'maxDownloadSpeed', type: 'size', group: 's3', metavar: 'BITS/S',
    doc: 'Limit download bandwidth, in bits per second (e.g. 100m): the bytes of blocks received, all requests together (the C tool caps each transfer). One block must move within --timeout at this speed, or the configuration is refused.' },
  sse: { flag: 'sse', type: 'enum', group: 's3', values: ['AES256', 'aws:kms'], metavar: 'AES256|aws:kms',
    doc: 'Ask S3 to encrypt stored objects (`x-amz-server-side-encryption` on every PUT, blocks and the mounted flag; never on GET, HEAD or DELETE).' },
  sseKeyId: { flag: 'sse-key-id', type: 'string', group: 's3', metavar: 'ID',
    doc: 'KMS key for `--sse=aws:kms` (`x-amz-server-side-encryption-aws-kms-key-id`); required with it, refused without it.' },
  storageClass: { flag: 'storageClass', type: 'enum', group: 's3', metavar: 'CLASS',
    values: ['STANDARD', 'STANDARD_IA', 'ONEZONE_IA', 'REDUCED_REDUNDANCY', 'INTELLIGENT_TIERING', 'GLACIER', 'GLACIER_IR', 'DEEP_ARCHIVE', 'OUTPOSTS', 'EXPRESS_ONEZONE'],
    doc: 'Storage class of stored objects (`x-amz-storage-class` on every PUT, blocks and the mounted flag).' },
  debugHttp: { flag: 'debug-http', type: 'boolean', group: 's3', default: false,
    doc: 'Log a line for every request to the store and one for its answer (method, URL, status, selected headers, time to the answer) at INFO level; never the Authorization header, a signature, a session token or a key.' },

  // --- the block cache (the C tool's block_cache.c; docs/block-cache.md) ---
  blockCacheSize: { flag: 'blockCacheSize', type: 'integer', group: 'cache', default: 1000, min: 0, metavar: 'N',
    doc: 'Blocks the cache holds (clean, dirty and in flight); 0 disables the cache, so every write is stored before it returns.' },
  blockCacheThreads: { flag: 'blockCacheThreads', type: 'integer', group: 'cache', default: 20, min: 1, max: 1000, metavar: 'N',
    doc: 'Uploads and read-ahead downloads in flight at once; reads of uncached blocks are not counted here, so write-back never starves them.' },
  blockCacheWriteDelay: { flag: 'blockCacheWriteDelay', type: 'integer', group: 'cache', default: 250, min: 0, metavar: 'MS',
    doc: 'Longest time a written block stays dirty before its upload starts (sooner as dirty blocks fill the cache); 0 uploads at once.' },
  blockCacheSync: { flag: 'blockCacheSync', type: 'boolean', group: 'cache', default: false,
    doc: 'A write returns only once its block is stored (write-through); needs --blockCacheWriteDelay=0.' },
  blockCacheTimeout: { flag: 'blockCacheTimeout', type: 'integer', group: 'cache', default: 0, min: 0, metavar: 'MS',
    doc: 'Drop clean blocks unused for this long; 0 keeps them until the space is needed.' },
  blockCacheMaxDirty: { flag: 'blockCacheMaxDirty', type: 'integer', group: 'cache', default: 0, min: 0, metavar: 'N',
    doc: 'Writers wait while this many blocks are dirty (not yet stored); 0 means only the cache size limits them.' },
  blockCacheNumProtected: { flag: 'blockCacheNumProtected', type: 'integer', group: 'cache', default: 0, min: 0, metavar: 'N',
    doc: 'Blocks numbered below N (file-system metadata) are evicted only when no other clean block is left.' },
  blockCacheFile: { flag: 'blockCacheFile', type: 'string', group: 'cache', metavar: 'FILE',
    doc: 'Keep the cache in this file: it survives restarts, and dirty blocks survive a crash (kill -9) and are uploaded by the next mount.' },
  blockCacheNoVerify: { flag: 'blockCacheNoVerify', type: 'boolean', group: 'cache', default: false,
    doc: 'Use clean blocks reloaded from --blockCacheFile without checking their ETag against the store first (faster, unsafe if another client wrote the volume).' },
  blockCacheRecoverDirtyBlocks: { flag: 'blockCacheRecoverDirtyBlocks', type: 'boolean', group: 'cache', default: false,
    doc: 'Upload dirty blocks found in --blockCacheFile even when its mount token does not match the volume\'s (after --reset-mounted-flag); without it such a file is refused, never silently discarded.' },
  blockCacheFileAdvise: { flag: 'blockCacheFileAdvise', type: 'boolean', group: 'cache', default: false,
    doc: 'Accepted for the C tool\'s command lines: it asks the kernel (posix_fadvise) not to keep cache-file pages in the page cache; Node has no such call, so the cache file is read and written as usual.' },
  readAhead: { flag: 'readAhead', type: 'integer', group: 'cache', default: 4, min: 0, metavar: 'N',
    doc: 'Blocks fetched ahead of a sequential reader at first, in parallel; the window doubles while the reader stays sequential, up to --blockCacheThreads; 0 disables read-ahead.' },
  readAheadTrigger: { flag: 'readAheadTrigger', type: 'integer', group: 'cache', default: 2, min: 1, metavar: 'N',
    doc: 'Consecutive block reads that make a reader sequential and start read-ahead.' },
  shutdownTimeout: { flag: 'shutdownTimeout', type: 'integer', group: 'cache', default: 120, min: 1, metavar: 'SECONDS',
    doc: 'At unmount, how long to keep retrying dirty blocks that cannot be stored before giving up with an error and exit status 1 (they stay in --blockCacheFile when there is one).' },

  // --- codecs: compression and encryption (the C tool's http_io.c; docs/format.md) ---
  compress: { flag: 'compress', type: 'string', group: 'codec', bareValue: 'deflate', metavar: 'ALG',
    doc: 'Compress every block before storing it: `deflate` (a bare `--compress`; zlib format, as the C tool), `zstd`, or `lz4` (ours: the C tool cannot read it). A number is the C tool\'s legacy form: deflate at that level. Reading never needs it: blocks decode by the encoding they record.',
    validate: (v: string) => (/^(deflate|zstd|lz4|-1|[0-9])$/i.test(v) ? undefined : 'must be deflate, zstd, lz4, or a deflate level from -1 to 9') },
  compressLevel: { flag: 'compress-level', type: 'integer', group: 'codec', metavar: 'LEVEL', defaultText: 'the algorithm\'s own (deflate 6, zstd 3)',
    doc: 'Compression level: deflate -1 (default) or 0 to 9; zstd its negative fast levels to 22; lz4 has none.' },
  encrypt: { flag: 'encrypt', type: 'string', group: 'codec', bareValue: 'AES-128-CBC', metavar: 'CIPHER',
    doc: 'Encrypt every block and authenticate it with an HMAC, exactly as the C tool does (a bare `--encrypt` means AES-128-CBC; also AES-192-CBC, AES-256-CBC and the other CBC block ciphers OpenSSL has). Implies `--compress`. A wrong password is refused at mount.' },
  password: { flag: 'password', type: 'string', group: 'codec', metavar: 'PASSWORD', defaultText: 'asked on the terminal',
    doc: 'Encryption password (visible in `ps`: prefer `--passwordFile` or the prompt).' },
  passwordFile: { flag: 'passwordFile', type: 'string', group: 'codec', metavar: 'FILE',
    doc: 'Read the encryption password from the first line of this file.' },
  keyLength: { flag: 'keyLength', type: 'integer', group: 'codec', min: 0, max: 64, metavar: 'BYTES', defaultText: 'the cipher\'s key length',
    doc: 'Length of the derived key, for volumes written by C s3backer 1.3.5 and older (which derived longer keys); at least the cipher\'s key length.' },
  defaultContentEncoding: { flag: 'defaultContentEncoding', type: 'string', group: 'codec', metavar: 'TOKENS',
    doc: 'Encoding to assume for objects stored without a Content-Encoding header, for S3 services that drop it (e.g. `deflate, encrypt-AES-128-CBC`).' },

  // --- the FUSE directory ---
  filename: { flag: 'filename', type: 'string', group: 'fuse', default: 'file', metavar: 'NAME',
    doc: 'Name of the disk file in the mount point.', validate: noSlash('--filename') },
  fileMode: { flag: 'fileMode', type: 'octal', group: 'fuse', metavar: 'MODE', defaultText: '0600 (0400 with --readOnly)',
    doc: 'Permission bits of the disk file, in octal (`0644`; in a config file a string such as `\'0644\'`, or a number such as `0o644`).', validate: (v: number) => (v > 0o7777 ? 'must be at most 07777' : undefined) },
  statsFilename: { flag: 'statsFilename', type: 'string', group: 'fuse', default: 'stats', metavar: 'NAME',
    doc: 'Name of the statistics file in the mount point (unlink it to reset the counters); empty hides it.', validate: noSlash('--statsFilename') },
  directIO: { flag: 'directIO', type: 'boolean', group: 'fuse', default: false,
    doc: 'Bypass the kernel page cache for the disk file (FUSE `direct_io`).' },
  statsFileMirror: { flag: 'statsFileMirror', type: 'string', group: 'fuse', metavar: 'FILE',
    doc: 'Also write the statistics to this regular file, replaced atomically every --statsFileMirrorInterval.' },
  statsFileMirrorInterval: { flag: 'statsFileMirrorInterval', type: 'integer', group: 'fuse', default: 1000, min: 10, metavar: 'MS',
    doc: 'How often --statsFileMirror is rewritten; only with --statsFileMirror.' },
  singleThreaded: { flag: 'singleThreaded', type: 'boolean', group: 'fuse', default: false, aliases: ['s'],
    doc: 'The C tool\'s `-s` (FUSE single-threaded): one request at a time reaches the disk.' },
  foreground: { flag: 'foreground', type: 'boolean', group: 'fuse', default: false, aliases: ['f'],
    doc: 'Stay in the foreground (`-f`); by default s3backer returns once the disk is mounted and serves it in the background.' },

  // --- NBD (instead of the FUSE directory) ---
  nbdListen: { flag: 'nbd-listen', type: 'string', group: 'nbd', metavar: 'ADDRESS', cliOnly: true,
    doc: 'Serve the disk as an NBD export instead of a FUSE file, with no mount point: `unix:/path/to.sock` or `HOST:PORT` (give a loopback host unless clients are elsewhere; then use --nbd-tls-cert). Serves until SIGTERM/SIGINT; read-ahead is off unless given (the client\'s kernel reads ahead).' },
  nbd: { flag: 'nbd', type: 'boolean', group: 'nbd', default: false, cliOnly: true,
    doc: 'The C tool\'s NBD mode: `s3backer --nbd [options] bucket[/subdir] /dev/nbdX` serves the export on a private Unix socket (in `$S3B_NBD_DIR`, default /run/s3backer-nbd) and attaches it to the kernel device with `nbd-client`; `nbd-client -d /dev/nbdX` or a signal detaches it and stops. Root only; read-ahead is off unless given.' },
  nbdTlsCert: { flag: 'nbd-tls-cert', type: 'string', group: 'nbd', metavar: 'FILE',
    doc: 'PEM certificate (chain) for NBD over TLS (`NBD_OPT_STARTTLS`); with --nbd-tls-key, clients must then use TLS.' },
  nbdTlsKey: { flag: 'nbd-tls-key', type: 'string', group: 'nbd', metavar: 'FILE',
    doc: 'PEM private key of --nbd-tls-cert.' },

  // --- general ---
  config: { flag: 'config', type: 'string', group: 'general', metavar: 'FILE', cliOnly: true,
    doc: 'Typed config file to load (s3backer.config.ts and friends), also written `--config=FILE`; by default one is searched in the current directory.' },
  configFile: { flag: 'configFile', type: 'string', group: 'general', metavar: 'FILE', cliOnly: true, aliases: ['F'],
    doc: 'The C tool\'s flag file: each line is one more command-line argument (`#` starts a comment); also written `--configFile=FILE`.' },
  debug: { flag: 'debug', type: 'boolean', group: 'general', default: false, aliases: ['d'],
    doc: 'Log debug messages (each S3 request, each mount step).' },
  logFile: { flag: 'logFile', type: 'string', group: 'general', metavar: 'FILE', defaultText: 'syslog; where nothing listens on /dev/log, /var/log/s3backer.log (root) or ~/.s3backer.log',
    doc: 'Where the background process appends its log (with -f the log stays on stderr).' },
  quiet: { flag: 'quiet', type: 'boolean', group: 'general', default: false,
    doc: 'Do not print progress messages while starting.' },
  help: { flag: 'help', type: 'boolean', group: 'general', cliOnly: true, aliases: ['h', '?'], doc: 'Print this help and exit.' },
  version: { flag: 'version', type: 'boolean', group: 'general', cliOnly: true, aliases: ['v'], doc: 'Print the version and exit.' },
} as const satisfies Record<string, OptionSpec>;

export type OptionKey = keyof typeof OPTION_TABLE;

type ValueOf<S> = S extends { type: 'boolean' } ? boolean
  : S extends { type: 'integer' | 'size' | 'octal' } ? number
  : S extends { type: 'enum'; values: readonly (infer V)[] } ? V
  : string;

/** Every option, by key, with its value type: what a config file may set. */
export type OptionValues = { -readonly [K in OptionKey]: ValueOf<(typeof OPTION_TABLE)[K]> };

/** The options the table gives a default: always present in a resolved configuration. */
export type KeysWithDefault = { [K in OptionKey]: (typeof OPTION_TABLE)[K] extends { default: unknown } ? K : never }[OptionKey];

/** Every table default, typed: what a resolved configuration starts from. */
export const OPTION_DEFAULTS: Readonly<Pick<OptionValues, KeysWithDefault>> = Object.freeze(Object.fromEntries(
  Object.entries(OPTION_TABLE).flatMap(([key, spec]) => ('default' in spec ? [[key, spec.default]] : [])),
) as Pick<OptionValues, KeysWithDefault>);

/**
 * Set one option from a value that `checkOptionValue` accepted for its spec: the one place where a
 * value parsed from text or read from a config file becomes typed (the check is what proves it).
 */
export function setCheckedOption<K extends OptionKey>(target: Partial<OptionValues>, key: K, checked: unknown): void {
  target[key] = checked as OptionValues[K];
}

export function optionSpec(key: OptionKey): OptionSpec {
  return OPTION_TABLE[key] as OptionSpec;
}

export const OPTION_KEYS = Object.keys(OPTION_TABLE) as OptionKey[];

/** Parse one option's text value (from a flag, `-o` or a flag file). Returns the value or an error message. */
export function parseOptionValue(spec: OptionSpec, raw: string | true): { value: unknown } | { error: string } {
  if (spec.type === 'boolean') {
    if (raw === true) return { value: true };
    const lower = raw.toLowerCase();
    if (['true', 'yes', '1', 'on'].includes(lower)) return { value: true };
    if (['false', 'no', '0', 'off'].includes(lower)) return { value: false };
    return { error: `expects no value or true/false, not "${raw}"` };
  }
  if (raw === true) {
    if (spec.type === 'string' && spec.bareValue !== undefined) return { value: spec.bareValue };
    return { error: 'needs a value (--' + spec.flag + '=VALUE)' };
  }
  switch (spec.type) {
    case 'string': return { value: raw };
    case 'size': {
      const value = parseSize(raw);
      return value === undefined ? { error: `"${raw}" is not a size (an integer with an optional k, m, g or t suffix)` } : { value };
    }
    case 'integer': {
      if (!/^-?\d+$/.test(raw.trim())) return { error: `"${raw}" is not an integer` };
      return { value: Number(raw) };
    }
    case 'octal': {
      if (!/^[0-7]+$/.test(raw.trim())) return { error: `"${raw}" is not an octal number such as 0644` };
      return { value: parseInt(raw, 8) };
    }
    case 'enum':
      return spec.values.includes(raw) ? { value: raw } : { error: `"${raw}" is not one of ${spec.values.join(', ')}` };
  }
}

/** Check a typed value (from a config file or after parsing) against the spec. Returns an error message. */
export function checkOptionValue(spec: OptionSpec, value: unknown): string | undefined {
  switch (spec.type) {
    case 'boolean': if (typeof value !== 'boolean') return 'must be true or false'; break;
    case 'string': if (typeof value !== 'string') return 'must be a string'; break;
    case 'enum': if (typeof value !== 'string' || !spec.values.includes(value)) return `must be one of ${spec.values.join(', ')}`; break;
    case 'integer': case 'octal':
      if (typeof value !== 'number' || !Number.isInteger(value)) return 'must be an integer';
      if (spec.type === 'integer' && spec.min !== undefined && value < spec.min) return `must be at least ${spec.min}`;
      if (spec.type === 'integer' && spec.max !== undefined && value > spec.max) return `must be at most ${spec.max}`;
      break;
    case 'size':
      if (!(typeof value === 'number' && Number.isSafeInteger(value) && value >= 0)) return 'must be a size in bytes (or a string such as "64k")';
      break;
  }
  return (spec.validate as ((v: unknown) => string | undefined) | undefined)?.(value);
}

/** How a default prints in help and docs. */
export function defaultText(spec: OptionSpec): string | undefined {
  if (spec.defaultText) return spec.defaultText;
  if (spec.default === undefined) return undefined;
  if (spec.type === 'size') return formatSize(spec.default);
  if (spec.type === 'octal') return '0' + spec.default.toString(8);
  if (spec.type === 'string' && spec.default === '') return '(empty)';
  return String(spec.default);
}
