import { S3BackerError, Stage, type BlockContext, type EncodedObject, type S3BackerPlugin } from 's3backer';
import { DEFAULT_CIPHER, resolveCipher, resolveKeyLength } from './cipher-name.js';
import { deriveKeys, encryptionSalt } from './derive-keys.js';
import { formatHmacMeta, parseHmacMeta, HMAC_META } from './block-hmac.js';
import { PooledBlockSealer, WORKER_MIN_BYTES } from './pooled-block-sealer.js';
import { acquireSharedCodecWorkerPool, type CodecWorkerPoolLease } from '../codec-workers/shared-codec-worker-pool.js';
import { describeEncodings, encryptToken, outerEncryption } from './encrypt-token.js';
import { checkVolumePassword } from './password-check.js';

export const ENCRYPT_PLUGIN_NAME = 'encrypt';

export { DEFAULT_CIPHER, MAX_KEY_LENGTH, acceptedCipherNames, describeCipher, resolveCipher, resolveKeyLength, type CipherSpec } from './cipher-name.js';
export { deriveKeys, encryptionSalt, PBKDF2_ITERATIONS, KDF_NAME, type VolumeKeys } from './derive-keys.js';
export { blockIv, BlockIvs } from './block-iv.js';
export { blockHmac, formatHmacMeta, parseHmacMeta, HMAC_META } from './block-hmac.js';
export { BlockCrypt, encryptBlock, decryptBlock } from './block-crypt.js';
export { BlockSealer, type SealedBlock, type OpenedBlock } from './block-sealer.js';
export { PooledBlockSealer, WORKER_MIN_BYTES } from './pooled-block-sealer.js';
export { encryptToken, tokenCipher, ENCRYPT_TOKEN_PREFIX } from './encrypt-token.js';
export { KEY_CHECK_NAME, KEY_CHECK_CONTENT_TYPE, keyCheckKey, isKeyCheckKey, deleteKeyCheck, keyCheckValue, parseKeyCheck, type KeyCheck } from './key-check.js';
export { checkVolumePassword, type PasswordCheckOutcome } from './password-check.js';

/**
 * The mount tap's stage: before every built-in, since a mount tap that uploads (the block cache
 * recovering dirty blocks) needs the keys and a checked password.
 */
const MOUNT_STAGE = Stage.VERIFY;

export interface EncryptPluginOptions {
  /** Any OpenSSL name of a CBC block cipher (`--encrypt=CIPHER`); default AES-128-CBC. Stored under its canonical name. */
  cipher?: string;
  password: string;
  /** Bytes of derived key (the C tool's `--keyLength`, for volumes of s3backer <= 1.3.5); default (and 0): the cipher's key length. */
  keyLength?: number;
}

/** How the plugin spreads its work; for tests and measurements, not a user setting. */
export interface EncryptPluginTuning {
  /**
   * Bodies of at least this many bytes are encrypted and decrypted in the codec worker threads,
   * smaller ones on the main thread (default WORKER_MIN_BYTES, per direction, chosen by
   * measurement). Infinity: never use the threads; 0: always.
   */
  workerMinBytes?: number;
}

/**
 * Encrypts and authenticates every block exactly as the C s3backer 2.x does (http_io.c), so either
 * tool reads the other's volumes: CBC under a PBKDF2-derived key with a per-block IV, Content-
 * Encoding `encrypt-<CIPHER>` after the compressor's token, and an HMAC-SHA1 in `s3backer-hmac`
 * that binds the body to its block number. Reads verify the HMAC before decrypting and refuse any
 * object that is not encrypted with this cipher; mounts refuse a wrong password (password-check.ts).
 * It does not compress: the option wiring adds the deflate encoder that `--encrypt` implies.
 * Big blocks are encrypted and decrypted in the codec worker threads (pooled-block-sealer.ts).
 */
export function encryptPlugin(options: EncryptPluginOptions): S3BackerPlugin {
  return createEncryptPlugin(options);
}

/** `encryptPlugin` with its work split as `tuning` says. */
export function createEncryptPlugin(options: EncryptPluginOptions, tuning: EncryptPluginTuning = {}): S3BackerPlugin {
  checkOptions(options);
  const cipher = resolveCipher(options.cipher ?? DEFAULT_CIPHER);
  const keyLength = resolveKeyLength(cipher, options.keyLength);
  const password = options.password;
  const token = encryptToken(cipher.name);
  const workerMinBytes = tuning.workerMinBytes ?? WORKER_MIN_BYTES;

  return {
    name: ENCRYPT_PLUGIN_NAME,
    apply(engine) {
      const log = engine.logger(ENCRYPT_PLUGIN_NAME);
      let sealer: PooledBlockSealer | undefined;
      let lease: CodecWorkerPoolLease | undefined;
      const requireSealer = (block: number) => {
        if (sealer) return sealer;
        throw new S3BackerError('S3B_ENGINE_STATE', 'the encryption keys are not derived yet: blocks can only be encoded or decoded after the mount hook ran', { block });
      };

      // Before every other mount tap (the block cache's recovers and uploads dirty blocks through
      // encode): the keys must exist and the password be checked before any block is written.
      engine.hooks.mount.tapPromise({ name: ENCRYPT_PLUGIN_NAME, stage: MOUNT_STAGE }, async (context) => {
        if (password === '') log.warn('the encryption password is empty: anyone who can read the bucket can decrypt the volume');
        const salt = encryptionSalt(context.config.bucket, context.config.prefix);
        const derived = await deriveKeys(password, salt, keyLength);
        const outcome = await checkVolumePassword(context, { cipher, keyLength, keys: derived, salt });
        log.debug(`${cipher.name}, ${keyLength}-byte key; password checked against ${outcome === 'empty' ? 'nothing (empty volume)' : outcome === 'block' ? 'a stored block' : 'the key-check object'}`);
        // Threads only when some body can reach the size that pays for them (bodies are at most
        // a block, plus a few bytes of framing for an incompressible compressed one); they start
        // at the first such block, and the keys reach each thread once.
        const smallest = typeof workerMinBytes === 'number' ? workerMinBytes : Math.min(workerMinBytes.seal, workerMinBytes.open);
        if (context.geometry.blockSize >= smallest) lease = acquireSharedCodecWorkerPool();
        sealer = new PooledBlockSealer(cipher, derived, lease?.pool, { minBytes: workerMinBytes, warn: (message) => log.warn(message) });
      });

      // After in-flight I/O drained: take the keys out of the threads, and end the threads when no
      // other plugin or mount in this process uses them.
      engine.hooks.shutdown.tapPromise(ENCRYPT_PLUGIN_NAME, async () => {
        sealer?.close();
        const held = lease;
        lease = undefined;
        await held?.release();
      });

      // http_io_write_block: encrypt what the compressor produced, then sign the ciphertext.
      engine.hooks.encode.tapPromise({ name: ENCRYPT_PLUGIN_NAME, stage: Stage.ENCRYPT }, async (object: EncodedObject, { block }: BlockContext): Promise<EncodedObject> => {
        const { body, hmac } = await requireSealer(block).seal(block, object.body);
        return {
          body,
          encodings: [...object.encodings, token],
          metadata: { ...object.metadata, [HMAC_META]: formatHmacMeta(hmac) },
        };
      });

      // Before any decoder runs: an object whose outermost layer is not this encryption is refused,
      // so a plain object put in place of an encrypted one never reaches the reader (the C tool's
      // "was supposed to be encrypted but wasn't", http_io_read_block).
      engine.hooks.checkObject.tap({ name: ENCRYPT_PLUGIN_NAME, stage: Stage.ENCRYPT }, (object: EncodedObject, { block }: BlockContext) => {
        const outer = outerEncryption(object.encodings, cipher.name);
        if (outer.kind === 'ours') return;
        if (outer.kind === 'other-cipher') {
          throw new S3BackerError('S3B_AUTH_FAILED',
            `the block was encrypted with ${outer.cipher}, but this mount uses ${cipher.name}; mount with --encrypt=${outer.cipher} (a volume mixing ciphers has been tampered with)`,
            { block, token });
        }
        if (outer.kind === 'not-outermost') {
          throw new S3BackerError('S3B_AUTH_FAILED',
            `stored with ${describeEncodings(object.encodings)}: "${outer.outer}" was applied over the encryption, which no writer does; the object has been tampered with, so nothing of it is returned. ` +
            'Restore the block from a backup, or write it again to replace it',
            { block, token });
        }
        throw new S3BackerError('S3B_AUTH_FAILED',
          `not encrypted (stored with ${describeEncodings(object.encodings)}): it was supposed to be encrypted with ${cipher.name}; a plain object may have been put in place of an encrypted one, so nothing of it is returned. ` +
          'Restore the block from a backup, or write it again to replace it',
          { block, token });
      });

      // http_io_read_block: check the signature over the ciphertext first, then decrypt.
      engine.hooks.decode.for(token).tapPromise(ENCRYPT_PLUGIN_NAME, async (object: EncodedObject, { block }: BlockContext): Promise<EncodedObject> => {
        const blockSealer = requireSealer(block);
        const stored = parseHmacMeta(object.metadata[HMAC_META]);
        if (!stored) {
          throw new S3BackerError('S3B_AUTH_FAILED',
            'the block is encrypted, but no signature was found (s3backer-hmac metadata missing or malformed); it may have been tampered with, so nothing of it is returned. Restore the block from a backup, or write it again to replace it',
            { block, token });
        }
        const opened = await blockSealer.open(block, object.body, stored);
        if (opened.ok) return { ...object, body: opened.body };
        if (opened.failure === 'signature') {
          throw new S3BackerError('S3B_AUTH_FAILED',
            'incorrect signature (did you provide the right password?): the object was changed, truncated, copied from another block or volume, or written with another password; nothing of it is returned. ' +
            'Restore the block from a backup, or write it again to replace it',
            { block, token });
        }
        throw new S3BackerError('S3B_DECODE_FAILED',
          `the signature is valid but the body does not decrypt with ${cipher.name} (${opened.reason}): a faulty writer stored it with this volume's key; restore the block from a backup, or write it again to replace it`,
          { block, token });
      });
    },
  };
}

const ALLOWED = 'allowed: { cipher?: string; password: string; keyLength?: number }';

/** The options' shape; never echoes the password. */
function checkOptions(options: EncryptPluginOptions): void {
  const invalid = (message: string) => new S3BackerError('S3B_CONFIG_INVALID', message, { plugin: ENCRYPT_PLUGIN_NAME });
  if (typeof options !== 'object' || options === null) throw invalid(`encrypt plugin options must be an object; ${ALLOWED}`);
  for (const key of Object.keys(options)) {
    if (key !== 'cipher' && key !== 'password' && key !== 'keyLength') throw invalid(`encrypt plugin has no option "${key}"; ${ALLOWED}`);
  }
  if (typeof options.password !== 'string') throw invalid('encryption needs a password; give it with --password, --passwordFile or at the prompt');
  if (options.cipher !== undefined && typeof options.cipher !== 'string') throw invalid(`encrypt plugin option "cipher" must be a cipher name such as "${DEFAULT_CIPHER}", not ${JSON.stringify(options.cipher)}`);
  if (options.keyLength !== undefined && typeof options.keyLength !== 'number') throw invalid(`encrypt plugin option "keyLength" must be a number of bytes, not ${JSON.stringify(options.keyLength)}`);
}
