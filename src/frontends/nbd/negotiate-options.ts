import type { Socket } from 'node:net';
import type { Logger } from '../../engine/logger.js';
import { selectsExport, type NbdExport } from './nbd-export.js';
import {
  MAX_STRING_BYTES, NBD_FLAG_C_FIXED_NEWSTYLE, NBD_FLAG_C_NO_ZEROES, NBD_FLAG_FIXED_NEWSTYLE, NBD_FLAG_NO_ZEROES,
  NBD_INIT_MAGIC, NBD_OPT_ABORT, NBD_OPT_EXPORT_NAME, NBD_OPT_GO, NBD_OPT_INFO, NBD_OPT_LIST, NBD_OPT_STARTTLS,
  NBD_OPT_STRUCTURED_REPLY, NBD_OPTS_MAGIC, NBD_REP_ACK, NBD_REP_ERR_INVALID, NBD_REP_ERR_POLICY, NBD_REP_ERR_SHUTDOWN,
  NBD_REP_ERR_TLS_REQD, NBD_REP_ERR_TOO_BIG, NBD_REP_ERR_UNKNOWN, NBD_REP_ERR_UNSUP,
} from './nbd-protocol.js';
import type { NbdTls } from './nbd-tls.js';
import { exportSizeAndFlags, infoReplies, optionError, optionReply, serverReply } from './option-replies.js';
import { ConnectionEndedError, SocketReader } from './socket-reader.js';

/**
 * Option data beyond this is refused unread (skipped as it arrives): the largest legitimate
 * option, NBD_OPT_GO with a 4096-byte name and a few info requests, is about 4 KiB.
 */
const MAX_OPTION_BYTES = 64 * 1024;

export interface NegotiationSettings {
  readonly exported: NbdExport;
  /** Set: the server insists on TLS (proto.md's FORCEDTLS mode). */
  readonly tls: NbdTls | undefined;
  readonly log: Logger;
  /** Names the client in log lines. */
  readonly peer: string;
  /** True once the server is stopping: further options are refused with NBD_REP_ERR_SHUTDOWN. */
  readonly stopping: () => boolean;
  /** Called with the encrypted socket and its reader once STARTTLS succeeded, so the connection can close them. */
  readonly upgraded: (socket: Socket, reader: SocketReader) => void;
}

/** Where the handshake ended. */
export type Negotiated =
  | { outcome: 'transmission'; socket: Socket; reader: SocketReader; structuredReplies: boolean }
  /** The client aborted, went away, or broke the protocol; `socket` is the one to close. */
  | { outcome: 'ended'; socket: Socket };

/** The protocol says the server must drop the connection: what `negotiateOptions` throws internally. */
class HardDisconnect extends Error {}

/**
 * The fixed newstyle handshake (proto.md, "Handshake"), server side: greet, read the client's
 * flags, then answer options until one enters the transmission phase (NBD_OPT_GO,
 * NBD_OPT_EXPORT_NAME) or the client leaves.
 */
export async function negotiateOptions(initialSocket: Socket, initialReader: SocketReader, settings: NegotiationSettings): Promise<Negotiated> {
  const { exported, tls, log, peer } = settings;
  let socket = initialSocket;
  let reader = initialReader;
  let tlsActive = false;
  let structuredReplies = false;
  // Each reply is handed to the socket before the next option is read: a client that sends
  // options without reading the replies is held back by TCP, not by our memory.
  const send = (...buffers: Buffer[]) => new Promise<void>((resolve) => {
    if (socket.destroyed) resolve();
    else socket.write(buffers.length === 1 ? buffers[0]! : Buffer.concat(buffers), () => resolve());
  });

  try {
    const greeting = Buffer.allocUnsafe(18);
    greeting.writeBigUInt64BE(NBD_INIT_MAGIC, 0);
    greeting.writeBigUInt64BE(NBD_OPTS_MAGIC, 8);
    greeting.writeUInt16BE(NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES, 16);
    await send(greeting);

    const clientFlags = (await reader.read(4)).readUInt32BE(0);
    if ((clientFlags & ~(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES)) !== 0) {
      throw new HardDisconnect(`sent unknown client flags 0x${clientFlags.toString(16)} (the protocol says to drop the connection)`);
    }
    if (tls && !(clientFlags & NBD_FLAG_C_FIXED_NEWSTYLE)) {
      throw new HardDisconnect('does not speak fixed newstyle negotiation, which TLS needs, and this server requires TLS');
    }
    const noZeroes = (clientFlags & NBD_FLAG_C_NO_ZEROES) !== 0;

    for (;;) {
      const header = await reader.read(16);
      if (header.readBigUInt64BE(0) !== NBD_OPTS_MAGIC) {
        throw new HardDisconnect(`sent an option with bad magic 0x${header.readBigUInt64BE(0).toString(16)} (expected IHAVEOPT)`);
      }
      const option = header.readUInt32BE(8);
      const length = header.readUInt32BE(12);
      const tlsRequired = tls !== undefined && !tlsActive;

      if (length > MAX_OPTION_BYTES) {
        if (option === NBD_OPT_EXPORT_NAME) throw new HardDisconnect(`sent NBD_OPT_EXPORT_NAME with ${length} bytes of data`);
        await reader.skip(length);
        await send(tlsRequired
          ? optionError(option, NBD_REP_ERR_TLS_REQD, 'this server requires TLS: send NBD_OPT_STARTTLS first')
          : optionError(option, NBD_REP_ERR_TOO_BIG, `option ${option} carries ${length} bytes; this server accepts at most ${MAX_OPTION_BYTES}`));
        continue;
      }
      const data = await reader.read(length);

      if (option === NBD_OPT_ABORT) {
        // proto.md: the server MUST reply with NBD_REP_ACK; the client then drops the connection.
        await send(optionReply(option, NBD_REP_ACK));
        log.debug(`${peer} aborted the handshake`);
        return { outcome: 'ended', socket };
      }
      if (settings.stopping()) {
        if (option === NBD_OPT_EXPORT_NAME) throw new HardDisconnect('asked for the export while the server is stopping');
        await send(optionError(option, NBD_REP_ERR_SHUTDOWN, 'the server is shutting down'));
        continue;
      }
      if (tlsRequired && option !== NBD_OPT_STARTTLS) {
        // FORCEDTLS: NBD_OPT_EXPORT_NAME cannot be answered with an error, so the session ends.
        if (option === NBD_OPT_EXPORT_NAME) throw new HardDisconnect('asked for the export without TLS, and this server requires TLS');
        await send(optionError(option, NBD_REP_ERR_TLS_REQD, 'this server requires TLS: send NBD_OPT_STARTTLS first'));
        continue;
      }

      switch (option) {
        case NBD_OPT_EXPORT_NAME: {
          const name = data.toString('utf8');
          if (!selectsExport(exported, name)) {
            throw new HardDisconnect(`asked for export "${name}" with NBD_OPT_EXPORT_NAME, which cannot be refused politely; this server exports only "${exported.name}"`);
          }
          await send(exportSizeAndFlags(exported, structuredReplies), ...(noZeroes ? [] : [Buffer.alloc(124)]));
          return { outcome: 'transmission', socket, reader, structuredReplies };
        }
        case NBD_OPT_LIST:
          if (length !== 0) {
            await send(optionError(option, NBD_REP_ERR_INVALID, 'NBD_OPT_LIST takes no data'));
            break;
          }
          await send(serverReply(option, exported), optionReply(option, NBD_REP_ACK));
          break;
        case NBD_OPT_STARTTLS: {
          if (!tls) {
            await send(optionError(option, NBD_REP_ERR_POLICY, 'TLS is not configured on this server'));
            break;
          }
          if (tlsActive) {
            await send(optionError(option, NBD_REP_ERR_INVALID, 'TLS is already active'));
            break;
          }
          if (length !== 0) {
            await send(optionError(option, NBD_REP_ERR_INVALID, 'NBD_OPT_STARTTLS takes no data'));
            break;
          }
          // The client starts its TLS handshake only after our ACK, so nothing may be waiting;
          // anything that is would be plaintext smuggled past the upgrade.
          if (reader.bufferedBytes > 0) throw new HardDisconnect('sent data after NBD_OPT_STARTTLS before the TLS handshake');
          reader.detach('the connection was upgraded to TLS');
          await send(optionReply(option, NBD_REP_ACK));
          const secure = await tls.upgrade(socket).catch((error: unknown) => {
            throw new HardDisconnect(`failed the TLS handshake: ${(error as Error).message}`);
          });
          socket = secure;
          reader = new SocketReader(socket);
          settings.upgraded(secure, reader);
          tlsActive = true;
          // proto.md: no negotiation state from before STARTTLS survives it.
          structuredReplies = false;
          log.debug(`${peer} upgraded to ${secure.getProtocol() ?? 'TLS'}`);
          break;
        }
        case NBD_OPT_INFO:
        case NBD_OPT_GO: {
          const request = parseInfoRequest(data);
          if (typeof request === 'string') {
            await send(optionError(option, NBD_REP_ERR_INVALID, request));
            break;
          }
          if (!selectsExport(exported, request.name)) {
            await send(optionError(option, NBD_REP_ERR_UNKNOWN, `no export named "${request.name}"; this server exports "${exported.name}" (the empty name selects it too)`));
            break;
          }
          await send(...infoReplies(option, exported, request.infos, structuredReplies), optionReply(option, NBD_REP_ACK));
          if (option === NBD_OPT_GO) return { outcome: 'transmission', socket, reader, structuredReplies };
          break;
        }
        case NBD_OPT_STRUCTURED_REPLY:
          if (length !== 0) {
            await send(optionError(option, NBD_REP_ERR_INVALID, 'NBD_OPT_STRUCTURED_REPLY takes no data'));
            break;
          }
          structuredReplies = true;
          await send(optionReply(option, NBD_REP_ACK));
          break;
        default:
          await send(optionError(option, NBD_REP_ERR_UNSUP, `option ${option} is not supported by this server`));
      }
    }
  } catch (error) {
    if (error instanceof HardDisconnect) log.warn(`${peer} ${error.message}; closing the connection`);
    else if (error instanceof ConnectionEndedError) log.debug(`${peer} left during the handshake: ${error.message}`);
    else throw error;
    return { outcome: 'ended', socket };
  }
}

/**
 * The data of NBD_OPT_INFO / NBD_OPT_GO: name length, name, number of info requests, requests.
 * A string when it is malformed (the reason, for NBD_REP_ERR_INVALID).
 */
function parseInfoRequest(data: Buffer): { name: string; infos: Set<number> } | string {
  if (data.length < 6) return `the option data is ${data.length} bytes; it needs at least 6`;
  const nameLength = data.readUInt32BE(0);
  if (nameLength > data.length - 6) return `the export name length ${nameLength} runs past the option data`;
  if (nameLength > MAX_STRING_BYTES) return `the export name is ${nameLength} bytes; names are at most ${MAX_STRING_BYTES}`;
  const count = data.readUInt16BE(4 + nameLength);
  if (data.length !== 6 + nameLength + 2 * count) return `the option data is ${data.length} bytes, but the name and ${count} information requests take ${6 + nameLength + 2 * count}`;
  const infos = new Set<number>();
  for (let i = 0; i < count; i++) infos.add(data.readUInt16BE(6 + nameLength + 2 * i));
  return { name: data.toString('utf8', 4, 4 + nameLength), infos };
}
