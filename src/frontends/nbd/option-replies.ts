import { blockSizeConstraints, transmissionFlags, type NbdExport } from './nbd-export.js';
import {
  MAX_STRING_BYTES, NBD_INFO_BLOCK_SIZE, NBD_INFO_DESCRIPTION, NBD_INFO_EXPORT, NBD_INFO_NAME, NBD_OPTION_REPLY_MAGIC,
  NBD_REP_INFO, NBD_REP_SERVER,
} from './nbd-protocol.js';
import { truncateUtf8 } from './transmission-replies.js';

/** The bytes of handshake-phase (option) replies: magic, option, reply type, length, data. */

export function optionReply(option: number, type: number, data: Buffer = Buffer.alloc(0)): Buffer {
  const reply = Buffer.allocUnsafe(20 + data.length);
  reply.writeBigUInt64BE(NBD_OPTION_REPLY_MAGIC, 0);
  reply.writeUInt32BE(option, 8);
  reply.writeUInt32BE(type, 12);
  reply.writeUInt32BE(data.length, 16);
  data.copy(reply, 20);
  return reply;
}

/** An error reply; its data is a message a client may show its user. */
export function optionError(option: number, type: number, message: string): Buffer {
  return optionReply(option, type, truncateUtf8(message, MAX_STRING_BYTES));
}

/** NBD_REP_SERVER for NBD_OPT_LIST: the export's name, then its description. */
export function serverReply(option: number, exported: NbdExport): Buffer {
  const name = Buffer.from(exported.name, 'utf8');
  const data = Buffer.concat([Buffer.alloc(4), name, truncateUtf8(exported.description, MAX_STRING_BYTES)]);
  data.writeUInt32BE(name.length, 0);
  return optionReply(option, NBD_REP_SERVER, data);
}

/** Size and transmission flags: what NBD_OPT_EXPORT_NAME answers, and NBD_INFO_EXPORT carries. */
export function exportSizeAndFlags(exported: NbdExport, structuredReplies: boolean): Buffer {
  const data = Buffer.allocUnsafe(10);
  data.writeBigUInt64BE(BigInt(exported.size), 0);
  data.writeUInt16BE(transmissionFlags(exported, structuredReplies), 8);
  return data;
}

/**
 * The NBD_REP_INFO replies of NBD_OPT_INFO / NBD_OPT_GO: always the export and its block sizes
 * (the maximum payload is a constraint clients must learn), its name and description when asked.
 */
export function infoReplies(option: number, exported: NbdExport, requested: ReadonlySet<number>, structuredReplies: boolean): Buffer[] {
  const info = (type: number, payload: Buffer) => {
    const data = Buffer.allocUnsafe(2 + payload.length);
    data.writeUInt16BE(type, 0);
    payload.copy(data, 2);
    return optionReply(option, NBD_REP_INFO, data);
  };
  const sizes = blockSizeConstraints(exported);
  const blockSizes = Buffer.allocUnsafe(12);
  blockSizes.writeUInt32BE(sizes.minimum, 0);
  blockSizes.writeUInt32BE(sizes.preferred, 4);
  blockSizes.writeUInt32BE(sizes.maximum, 8);
  const replies = [info(NBD_INFO_EXPORT, exportSizeAndFlags(exported, structuredReplies)), info(NBD_INFO_BLOCK_SIZE, blockSizes)];
  if (requested.has(NBD_INFO_NAME)) replies.push(info(NBD_INFO_NAME, truncateUtf8(exported.name, MAX_STRING_BYTES)));
  if (requested.has(NBD_INFO_DESCRIPTION)) replies.push(info(NBD_INFO_DESCRIPTION, truncateUtf8(exported.description, MAX_STRING_BYTES)));
  return replies;
}
