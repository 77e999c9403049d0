/** Characters S3 never needs escaped in a key path: the RFC 3986 unreserved set and `/`. */
const PLAIN_KEY = /^[A-Za-z0-9\-._~/]*$/;
/** What `encodeURIComponent` leaves alone but S3's URI encoding escapes. */
const SUB_DELIMS = /[!'()*]/g;

/**
 * An object key as the path of an S3 request, exactly as the SDK serializes a `{Key+}` label
 * (`extendedEncodeURIComponent` per `/`-separated segment): every byte of the UTF-8 form is
 * percent-encoded (upper-case hex) except the unreserved characters `A-Z a-z 0-9 - . _ ~` and the
 * `/` separators, which stay as they are (`a b+c` → `a%20b%2Bc`, `ü` → `%C3%BC`). Block keys
 * (`prefix` + `%08x`) take the fast path and come back unchanged. The result is both what goes
 * on the wire and the canonical URI that SigV4 signs (S3 signs the path without double-encoding).
 * A key that is not well-formed UTF-16 (a lone surrogate) throws a URIError, as in the SDK.
 */
export function encodeS3Key(key: string): string {
  if (PLAIN_KEY.test(key)) return key;
  return key.split('/').map(encodeSegment).join('/');
}

function encodeSegment(segment: string): string {
  return encodeURIComponent(segment).replace(SUB_DELIMS, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
