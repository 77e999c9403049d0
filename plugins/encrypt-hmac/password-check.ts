import { PreconditionFailedError, S3BackerError, parseContentEncoding, type MountContext, type StoredObject } from 's3backer';
import type { CipherSpec } from './cipher-name.js';
import type { VolumeKeys } from './derive-keys.js';
import { blockHmac, hmacMatches, parseHmacMeta, HMAC_META } from './block-hmac.js';
import { describeEncodings, outerEncryption } from './encrypt-token.js';
import { KEY_CHECK_CONTENT_TYPE, createKeyCheck, keyCheckKey, keyCheckValue, parseKeyCheck, serializeKeyCheck } from './key-check.js';

/** What the mount's password was checked against. */
export type PasswordCheckOutcome =
  /** The volume's key-check object. */
  | 'key-check'
  /** A stored block's HMAC (a C-written volume, or one of ours from before the key check existed). */
  | 'block'
  /** Nothing: the volume holds no block yet, so any password starts it. */
  | 'empty';

export interface VolumeSecrets {
  readonly cipher: CipherSpec;
  /** Bytes of derived key. */
  readonly keyLength: number;
  readonly keys: VolumeKeys;
  /** The PBKDF2 salt, for messages. */
  readonly salt: string;
}

/**
 * Refuse a wrong password at mount, before anything is written — beyond the C tool, which only
 * notices when a block fails its HMAC on a read (and has by then written blocks a correct password
 * can no longer read, since each write uses the key of the password given).
 *
 * 1. The key-check object, when present, decides: a different cipher or key length, or a check
 *    value that does not match this key, is S3B_WRONG_PASSWORD.
 * 2. Otherwise one stored block decides (block 0, else the first block the listing shows): it must
 *    be encrypted with this cipher and its HMAC must verify with this key.
 * 3. Then, unless the mount is read-only, the key-check object is written, so the next mount
 *    checks against it (and an empty volume keeps the password it was started with).
 */
export async function checkVolumePassword(context: MountContext, secrets: VolumeSecrets): Promise<PasswordCheckOutcome> {
  const { store, geometry, config } = context;
  const checkKey = keyCheckKey(geometry.prefix);
  const stored = await store.get(checkKey);
  if (stored) {
    verifyKeyCheck(checkKey, stored, secrets);
    return 'key-check';
  }
  const sample = await findBlockObject(store, geometry);
  if (sample) verifyBlockObject(sample.block, sample.object, secrets, config.defaultContentEncoding);
  if (!config.readOnly) await writeKeyCheck(context, secrets);
  return sample ? 'block' : 'empty';
}

function verifyKeyCheck(checkKey: string, stored: StoredObject, { cipher, keyLength, keys, salt }: VolumeSecrets): void {
  const record = parseKeyCheck(stored.body);
  if (typeof record === 'string') {
    // Not a password mismatch, and no block is involved: a corrupt object of ours in the store, which
    // S3B_DECODE_FAILED ("could not be decoded") describes best.
    throw new S3BackerError('S3B_DECODE_FAILED',
      `the volume's key-check object "${checkKey}" is not a valid s3backer key check (${record}), so the password cannot be checked against it; ` +
      'if you did not write it on purpose, delete that object: the next mount checks the password against a stored block instead and writes a new one');
  }
  if (record.cipher.toUpperCase() !== cipher.name || record.keyLength !== keyLength) {
    const options = `--encrypt=${record.cipher}${record.keyLength === keyLength ? '' : ` --keyLength=${record.keyLength}`}`;
    throw new S3BackerError('S3B_WRONG_PASSWORD',
      `this volume was encrypted with ${record.cipher} and a ${record.keyLength}-byte key (recorded in "${checkKey}"), but this mount uses ${cipher.name} with a ${keyLength}-byte key; ` +
      `mount with ${options} and the volume's password. Nothing was written`);
  }
  if (!hmacMatches(Buffer.from(record.check, 'hex'), keyCheckValue(keys.key, cipher.name))) {
    throw new S3BackerError('S3B_WRONG_PASSWORD',
      `the password does not match the one this volume was encrypted with (checked against "${checkKey}"); nothing was written. ` +
      `Mount again with the right password (the key also depends on the bucket and prefix, salt "${salt}": a volume copied elsewhere needs its original bucket and prefix). ` +
      `If the C tool erased and restarted this volume with a new password since (its --erase leaves "${checkKey}" behind), delete that object`);
  }
}

/** Block 0's object, else the first block object the listing shows; undefined for an empty volume. */
async function findBlockObject(store: MountContext['store'], geometry: MountContext['geometry']): Promise<{ block: number; object: StoredObject } | undefined> {
  const first = await store.get(geometry.key(0));
  if (first) return { block: 0, object: first };
  for await (const key of store.list({ prefix: geometry.prefix })) {
    const block = geometry.parseKey(key);
    if (block === undefined || block === 0) continue;
    const object = await store.get(key);
    // Deleted since it was listed (another writer with --force): look further.
    if (object) return { block, object };
  }
  return undefined;
}

function verifyBlockObject(block: number, object: StoredObject, { cipher, keys, salt }: VolumeSecrets, defaultContentEncoding: string | undefined): void {
  // As the read path does (object-pipeline.ts): --defaultContentEncoding stands in for a dropped header.
  const tokens = parseContentEncoding(object.contentEncoding ?? defaultContentEncoding);
  const outer = outerEncryption(tokens, cipher.name);
  if (outer.kind === 'plain') {
    throw new S3BackerError('S3B_CONFIG_INVALID',
      `the volume holds unencrypted blocks (this one is stored with ${describeEncodings(tokens)}): mounting it with --encrypt would mix encrypted and plain blocks, ` +
      'and every plain block would then be refused as a possible substitution; mount without --encrypt, or copy the data onto a new, empty encrypted volume',
      { block });
  }
  if (outer.kind === 'other-cipher') {
    throw new S3BackerError('S3B_WRONG_PASSWORD',
      `the volume is encrypted with ${outer.cipher}, but this mount uses ${cipher.name}; mount with --encrypt=${outer.cipher} and the volume's password. Nothing was written`,
      { block });
  }
  if (outer.kind === 'not-outermost') {
    throw new S3BackerError('S3B_AUTH_FAILED',
      `stored with ${describeEncodings(tokens)}: "${outer.outer}" was applied over the encryption, which no writer does, so the object has been tampered with and the password cannot be checked against it; ` +
      'delete or restore that object, then mount again', { block });
  }
  const stored = parseHmacMeta(object.metadata[HMAC_META]);
  if (!stored) {
    throw new S3BackerError('S3B_AUTH_FAILED',
      'the block is encrypted, but has no signature (s3backer-hmac metadata), so the password cannot be checked against it and the block cannot be trusted; ' +
      'delete or restore that object, then mount again', { block });
  }
  if (!hmacMatches(stored, blockHmac(keys.key, cipher.name, block, object.body))) {
    throw new S3BackerError('S3B_WRONG_PASSWORD',
      `the password does not match the one this volume was encrypted with: the block's signature does not verify with the key derived from it; nothing was written. ` +
      `Mount again with the right password (the key also depends on the bucket and prefix, salt "${salt}": a volume copied elsewhere needs its original bucket and prefix)`,
      { block });
  }
}

async function writeKeyCheck(context: MountContext, secrets: VolumeSecrets, retried = false): Promise<void> {
  const { store, geometry } = context;
  const checkKey = keyCheckKey(geometry.prefix);
  const body = serializeKeyCheck(createKeyCheck(secrets.cipher.name, secrets.keyLength, secrets.keys.key));
  try {
    // Create only: if another mount (with --force) wrote one since we looked, its check decides.
    await store.put(checkKey, body, { contentType: KEY_CHECK_CONTENT_TYPE, ...(store.supports.conditionalPut ? { ifNoneMatch: '*' as const } : {}) });
  } catch (error) {
    if (!(error instanceof PreconditionFailedError) || retried) throw error;
    const stored = await store.get(checkKey);
    if (stored) verifyKeyCheck(checkKey, stored, secrets);
    else await writeKeyCheck(context, secrets, true);
  }
}
