import {
  MAX_STRING_BYTES, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_ERROR, NBD_REPLY_TYPE_ERROR_OFFSET, NBD_REPLY_TYPE_NONE, NBD_REPLY_TYPE_OFFSET_DATA, NBD_SIMPLE_REPLY_MAGIC,
  NBD_STRUCTURED_REPLY_MAGIC, SIMPLE_REPLY_HEADER_LENGTH, STRUCTURED_REPLY_HEADER_LENGTH,
} from './nbd-protocol.js';

/**
 * The bytes of transmission-phase replies. Each reply is built as ONE buffer, so that replies of
 * requests served concurrently can never interleave on the socket.
 */

function simpleHeader(target: Buffer, cookie: Buffer, error: number): void {
  target.writeUInt32BE(NBD_SIMPLE_REPLY_MAGIC, 0);
  target.writeUInt32BE(error, 4);
  cookie.copy(target, 8);
}

function chunkHeader(target: Buffer, at: number, cookie: Buffer, flags: number, type: number, length: number): void {
  target.writeUInt32BE(NBD_STRUCTURED_REPLY_MAGIC, at);
  target.writeUInt16BE(flags, at + 4);
  target.writeUInt16BE(type, at + 6);
  cookie.copy(target, at + 8);
  target.writeUInt32BE(length, at + 16);
}

/** Success of a command without data (also allowed once structured replies are negotiated). */
export function successReply(cookie: Buffer): Buffer {
  const reply = Buffer.allocUnsafe(SIMPLE_REPLY_HEADER_LENGTH);
  simpleHeader(reply, cookie, 0);
  return reply;
}

/**
 * A failed request: a simple reply with the error, or with structured replies a final error
 * chunk whose message a client can show to its user: NBD_REPLY_TYPE_ERROR_OFFSET when the
 * failure is known to start at `offset` (inside the request), NBD_REPLY_TYPE_ERROR otherwise.
 */
export function errorReply(structured: boolean, cookie: Buffer, error: number, message: string, offset?: number): Buffer {
  if (!structured) {
    const reply = Buffer.allocUnsafe(SIMPLE_REPLY_HEADER_LENGTH);
    simpleHeader(reply, cookie, error);
    return reply;
  }
  const text = truncateUtf8(message, MAX_STRING_BYTES);
  const payload = 6 + text.length + (offset === undefined ? 0 : 8);
  const reply = Buffer.allocUnsafe(STRUCTURED_REPLY_HEADER_LENGTH + payload);
  chunkHeader(reply, 0, cookie, NBD_REPLY_FLAG_DONE, offset === undefined ? NBD_REPLY_TYPE_ERROR : NBD_REPLY_TYPE_ERROR_OFFSET, payload);
  reply.writeUInt32BE(error, STRUCTURED_REPLY_HEADER_LENGTH);
  reply.writeUInt16BE(text.length, STRUCTURED_REPLY_HEADER_LENGTH + 4);
  text.copy(reply, STRUCTURED_REPLY_HEADER_LENGTH + 6);
  if (offset !== undefined) reply.writeBigUInt64BE(BigInt(offset), STRUCTURED_REPLY_HEADER_LENGTH + 6 + text.length);
  return reply;
}

/**
 * The header of a successful read's reply; the data follows it in separate buffers (the blocks as
 * the device holds them). Simple: the 16-byte reply. Structured: one NBD_REPLY_TYPE_OFFSET_DATA
 * chunk flagged DONE (the data is complete before the header is sent, so no error can follow it),
 * or NBD_REPLY_TYPE_NONE for an empty read (an OFFSET_DATA chunk describes at least one byte).
 */
export function readReplyHeader(structured: boolean, cookie: Buffer, offset: number, length: number): Buffer {
  if (!structured) {
    const reply = Buffer.allocUnsafe(SIMPLE_REPLY_HEADER_LENGTH);
    simpleHeader(reply, cookie, 0);
    return reply;
  }
  if (length === 0) {
    const reply = Buffer.allocUnsafe(STRUCTURED_REPLY_HEADER_LENGTH);
    chunkHeader(reply, 0, cookie, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_NONE, 0);
    return reply;
  }
  const header = Buffer.allocUnsafe(STRUCTURED_REPLY_HEADER_LENGTH + 8);
  chunkHeader(header, 0, cookie, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_OFFSET_DATA, 8 + length);
  header.writeBigUInt64BE(BigInt(offset), STRUCTURED_REPLY_HEADER_LENGTH);
  return header;
}

/** At most `limit` bytes of `text` in UTF-8, cut between characters. */
export function truncateUtf8(text: string, limit: number): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= limit) return bytes;
  let end = limit;
  // Back up over continuation bytes (10xxxxxx) so no character is cut in half.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}
