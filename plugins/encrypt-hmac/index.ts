import type { S3BackerPlugin } from '../../src/engine/plugin.js';
import type { EncodedObject, BlockContext } from '../../src/engine/hooks.js';
import { Stage } from '../../src/engine/stages.js';
import { S3BackerError } from '../../src/errors/s3backer-error.js';
import { DEFAULT_CIPHER, resolveCipher, resolveKeyLength } from './cipher-name.js';
import { deriveKeys, encryptionSalt } from './derive-keys.js';
import { blockHmac, formatHmacMeta, hmacMatches, parseHmacMeta, HMAC_META } from './block-hmac.js';
import { BlockCrypt } from './block-crypt.js';
import { describeEncodings, encryptToken, outerEncryption } from './encrypt-token.js';
import { checkVolumePassword } from './password-check.js';

export const ENCRYPT_PLUGIN_NAME = 'encrypt';

export { DEFAULT_CIPHER, MAX_KEY_LENGTH, acceptedCipherNames, describeCipher, resolveCipher, resolveKeyLength, type CipherSpec } from './cipher-name.js';
export { deriveKeys, encryptionSalt, PBKDF2_ITERATIONS, KDF_NAME, type VolumeKeys } from './derive-keys.js';
export { blockIv, BlockIvs } from './block-iv.js';
export { blockHmac, formatHmacMeta, parseHmacMeta, HMAC_META } from './block-hmac.js';
export { BlockCrypt, encryptBlock, decryptBlock } from './block-crypt.js';
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

/**
 * Encrypts and authenticates every block exactly as the C s3backer 2.x does (http_io.c), so either
 * tool reads the other's volumes: CBC under a PBKDF2-derived key with a per-block IV, Content-
 * Encoding `encrypt-<CIPHER>` after the compressor's token, and an HMAC-SHA1 in `s3backer-hmac`
 * that binds the body to its block number. Reads verify the HMAC before decrypting and refuse any
 * object that is not encrypted with this cipher; mounts refuse a wrong password (password-check.ts).
 * It does not compress: the option wiring adds the deflate encoder that `--encrypt` implies.
 */
export function encryptPlugin(options: EncryptPluginOptions): S3BackerPlugin {
  checkOptions(options);
  const cipher = resolveCipher(options.cipher ?? DEFAULT_CIPHER);
  const keyLength = resolveKeyLength(cipher, options.keyLength);
  const password = options.password;
  const token = encryptToken(cipher.name);

  return {
    name: ENCRYPT_PLUGIN_NAME,
    apply(engine) {
      const log = engine.logger(ENCRYPT_PLUGIN_NAME);
      let keys: { readonly key: Buffer; readonly crypt: BlockCrypt } | undefined;
      const requireKeys = (block: number) => {
        if (keys) return keys;
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
        keys = { key: derived.key, crypt: new BlockCrypt(cipher, derived) };
      });

      // http_io_write_block: encrypt what the compressor produced, then sign the ciphertext.
      engine.hooks.encode.tap({ name: ENCRYPT_PLUGIN_NAME, stage: Stage.ENCRYPT }, (object: EncodedObject, { block }: BlockContext): EncodedObject => {
        const volumeKeys = requireKeys(block);
        const body = volumeKeys.crypt.encrypt(block, object.body);
        return {
          body,
          encodings: [...object.encodings, token],
          metadata: { ...object.metadata, [HMAC_META]: formatHmacMeta(blockHmac(volumeKeys.key, cipher.name, block, body)) },
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
      engine.hooks.decode.for(token).tap(ENCRYPT_PLUGIN_NAME, (object: EncodedObject, { block }: BlockContext): EncodedObject => {
        const volumeKeys = requireKeys(block);
        const stored = parseHmacMeta(object.metadata[HMAC_META]);
        if (!stored) {
          throw new S3BackerError('S3B_AUTH_FAILED',
            'the block is encrypted, but no signature was found (s3backer-hmac metadata missing or malformed); it may have been tampered with, so nothing of it is returned. Restore the block from a backup, or write it again to replace it',
            { block, token });
        }
        if (!hmacMatches(stored, blockHmac(volumeKeys.key, cipher.name, block, object.body))) {
          throw new S3BackerError('S3B_AUTH_FAILED',
            'incorrect signature (did you provide the right password?): the object was changed, truncated, copied from another block or volume, or written with another password; nothing of it is returned. ' +
            'Restore the block from a backup, or write it again to replace it',
            { block, token });
        }
        let body: Buffer;
        try {
          body = volumeKeys.crypt.decrypt(block, object.body);
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error);
          throw new S3BackerError('S3B_DECODE_FAILED',
            `the signature is valid but the body does not decrypt with ${cipher.name} (${reason}): a faulty writer stored it with this volume's key; restore the block from a backup, or write it again to replace it`,
            { block, token, cause: error });
        }
        return { ...object, body };
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
