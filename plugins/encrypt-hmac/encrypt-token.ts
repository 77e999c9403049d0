/** The Content-Encoding token prefix the C tool writes (`CONTENT_ENCODING_ENCRYPT "-"`, http_io.c). */
export const ENCRYPT_TOKEN_PREFIX = 'encrypt-';

/** The token of a cipher: `encrypt-AES-128-CBC` (the C tool's exact spelling: prefix + upper-case name). */
export function encryptToken(cipherName: string): string {
  return ENCRYPT_TOKEN_PREFIX + cipherName;
}

/**
 * The cipher an `encrypt-*` token names, upper-cased, or undefined for any other token. The C tool
 * matches the prefix and the cipher without case (strncasecmp / strcasecmp in http_io_read_block).
 */
export function tokenCipher(token: string | undefined): string | undefined {
  return token !== undefined && token.toLowerCase().startsWith(ENCRYPT_TOKEN_PREFIX) ? token.slice(ENCRYPT_TOKEN_PREFIX.length).toUpperCase() : undefined;
}

/** How an object's Content-Encoding tokens relate to the mount's cipher. */
export type OuterEncryption =
  /** The outermost token is this cipher's: the object may be authenticated and decrypted. */
  | { readonly kind: 'ours' }
  /** The outermost token encrypts with another cipher. */
  | { readonly kind: 'other-cipher'; readonly cipher: string }
  /** No token encrypts: a plain object (or one with no Content-Encoding at all). */
  | { readonly kind: 'plain' }
  /** Some token encrypts, but another encoding was applied over it: not a layout any writer produces. */
  | { readonly kind: 'not-outermost'; readonly outer: string };

/**
 * Classify the tokens (in the order applied) against `cipherName`. Encryption is always the last
 * layer (the C tool encrypts after compressing), so only the outermost token counts.
 */
export function outerEncryption(tokens: readonly string[], cipherName: string): OuterEncryption {
  const outer = tokens[tokens.length - 1];
  const cipher = tokenCipher(outer);
  if (cipher !== undefined) return cipher === cipherName.toUpperCase() ? { kind: 'ours' } : { kind: 'other-cipher', cipher };
  if (outer === undefined || !tokens.some((token) => tokenCipher(token) !== undefined)) return { kind: 'plain' };
  return { kind: 'not-outermost', outer };
}

/** `tokens` as a message shows them. */
export function describeEncodings(tokens: readonly string[]): string {
  return tokens.length === 0 ? 'no Content-Encoding' : `Content-Encoding "${tokens.join(', ')}"`;
}
