/**
 * The `If-Match` value for an ETag this store got back from the server. ETags are opaque: they
 * are kept and compared exactly as the server sent them. On the wire If-Match takes an
 * entity-tag, which is quoted (RFC 9110 8.8.3); AWS S3 sends quoted ETags and matches quoted ones,
 * and radosgw 16.2 accepts both forms on GET and HEAD. So an ETag that already is an entity-tag
 * (`"..."`, `W/"..."`) goes as is, and a bare one (from a server that drops the quotes) is quoted,
 * which both accept. The C tool sends `If-Match: "<hex>"` too (http_io.c, http_io_read_block).
 */
export function ifMatchHeader(etag: string): string {
  return /^(W\/)?".*"$/.test(etag) ? etag : `"${etag}"`;
}
