import type { Socket } from 'node:net';
import type { BlockDevice } from '../../engine/block-device.js';
import type { Logger } from '../../engine/logger.js';
import { S3BackerError } from '../../errors/s3backer-error.js';
import { InFlightLimit } from './in-flight-limit.js';
import { nbdErrorOf } from './nbd-error-of.js';
import type { NbdExport } from './nbd-export.js';
import {
  NBD_CMD_DISC, NBD_CMD_FLAG_DF, NBD_CMD_FLAG_FUA, NBD_CMD_FLAG_NO_HOLE, NBD_CMD_FLUSH, NBD_CMD_READ, NBD_CMD_TRIM,
  NBD_CMD_WRITE, NBD_CMD_WRITE_ZEROES, NBD_EINVAL, NBD_ENOSPC, NBD_EPERM, NBD_REQUEST_MAGIC, REQUEST_HEADER_LENGTH,
} from './nbd-protocol.js';
import { ConnectionEndedError, type SocketReader } from './socket-reader.js';
import { errorReply, readReplyHeader, successReply } from './transmission-replies.js';
import { blockPieces } from '../../engine/block-pieces.js';

export interface TransmissionSettings {
  readonly device: BlockDevice;
  readonly exported: NbdExport;
  readonly structuredReplies: boolean;
  readonly log: Logger;
  /** Names the client in log lines. */
  readonly peer: string;
  /** Requests of this connection outstanding at once before the server stops reading more. */
  readonly maxInFlightRequests: number;
  /** Payload bytes of this connection outstanding at once before the server stops reading more. */
  readonly maxInFlightBytes: number;
}

/**
 * A WRITE above the maximum payload is refused; its payload is still read and dropped (without
 * being kept) up to this many bytes, so the connection stays in step. Beyond it the client is
 * deemed hostile and disconnected, as proto.md permits (nbdkit draws the same line at 64 MiB).
 */
const OVERSIZED_WRITE_DISCARD_LIMIT = 64 * 1024 * 1024;

/** TRIM and WRITE_ZEROES have no payload and may span the whole disk: they run in slices of about this much. */
const ZERO_SLICE_BYTES = 4 * 1024 * 1024;

const KNOWN_FLAGS = NBD_CMD_FLAG_FUA | NBD_CMD_FLAG_NO_HOLE | NBD_CMD_FLAG_DF;

const COMMAND_NAMES: Record<number, string> = {
  [NBD_CMD_READ]: 'READ', [NBD_CMD_WRITE]: 'WRITE', [NBD_CMD_DISC]: 'DISC', [NBD_CMD_FLUSH]: 'FLUSH',
  [NBD_CMD_TRIM]: 'TRIM', [NBD_CMD_WRITE_ZEROES]: 'WRITE_ZEROES',
};

interface Request {
  flags: number;
  type: number;
  cookie: Buffer;
  /** As sent: may exceed any safe integer. */
  offset: bigint;
  length: number;
}

/** What the request loop does after a request. */
type Next = 'continue' | 'stop';

/**
 * The transmission phase of one connection (proto.md, "Transmission"). One loop reads requests;
 * each is served concurrently and answered as soon as it completes, so replies go out in any
 * order, each as one buffer (never interleaved). The loop waits for room in the in-flight limit
 * before it reads on: that is the backpressure. `run()` resolves once the loop has ended AND
 * every request it started has completed and had its reply written (or abandoned, if the socket
 * died): only then may the disk shut down.
 */
export class NbdTransmission {
  private readonly limit: InFlightLimit;
  private stopping = false;

  constructor(
    private readonly socket: Socket,
    private readonly reader: SocketReader,
    private readonly settings: TransmissionSettings,
  ) {
    this.limit = new InFlightLimit(settings.maxInFlightRequests, settings.maxInFlightBytes);
  }

  /** Serve until the client disconnects (DISC, close), breaks the protocol, or `stop()`. */
  async run(): Promise<void> {
    const { log, peer } = this.settings;
    try {
      while (!this.stopping) {
        let header: Buffer;
        try {
          header = await this.reader.read(REQUEST_HEADER_LENGTH);
        } catch (error) {
          if (!(error instanceof ConnectionEndedError)) throw error;
          if (!this.stopping) {
            if (error.atBoundary) log.debug(`${peer}: ${error.message}`);
            else log.warn(`${peer}: ${error.message} in the middle of a request header`);
          }
          return;
        }
        const magic = header.readUInt32BE(0);
        if (magic !== NBD_REQUEST_MAGIC) {
          log.warn(`${peer} sent a request with bad magic 0x${magic.toString(16).padStart(8, '0')} (expected 0x${NBD_REQUEST_MAGIC.toString(16)}); the stream is out of step, closing the connection`);
          return;
        }
        const request: Request = {
          flags: header.readUInt16BE(4),
          type: header.readUInt16BE(6),
          // Copied: the header may be a view into a larger chunk that should not be kept alive.
          cookie: Buffer.from(header.subarray(8, 16)),
          offset: header.readBigUInt64BE(16),
          length: header.readUInt32BE(24),
        };
        try {
          if (await this.serve(request) === 'stop') return;
        } catch (error) {
          if (!(error instanceof ConnectionEndedError)) throw error;
          if (!this.stopping) log.warn(`${peer}: ${error.message} in the middle of a ${COMMAND_NAMES[request.type] ?? 'request'}'s payload`);
          return;
        }
      }
    } finally {
      // Replies of requests still running go out on this socket before it is closed.
      await this.limit.idle();
    }
  }

  /** Read no more requests; those in flight complete and are answered. */
  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    this.reader.detach('the server is stopping');
  }

  private async serve(request: Request): Promise<Next> {
    const { device, exported, log, peer, structuredReplies } = this.settings;
    const { flags, type, length } = request;
    const name = COMMAND_NAMES[type] ?? `command ${type}`;
    const end = request.offset + BigInt(length);
    const pastEnd = end > BigInt(exported.size);
    const offset = pastEnd ? 0 : Number(request.offset);
    const fua = (flags & NBD_CMD_FLAG_FUA) !== 0;

    /** Answer at once with an error; the request costs a slot until the reply is written. */
    const refuse = async (error: number, message: string): Promise<void> => {
      log.debug(`${peer}: ${name} of ${length} bytes at ${request.offset} refused: ${message}`);
      await this.limit.admit(0);
      this.send(errorReply(structuredReplies, request.cookie, error, message), 0);
    };
    const range = `[${request.offset}, ${end}) ends past the end of the ${exported.size}-byte export`;

    const badFlags = flags & ~KNOWN_FLAGS
      || (flags & NBD_CMD_FLAG_NO_HOLE && type !== NBD_CMD_WRITE_ZEROES)
      || (flags & NBD_CMD_FLAG_DF && (type !== NBD_CMD_READ || !structuredReplies));

    switch (type) {
      case NBD_CMD_DISC:
        log.debug(`${peer} disconnected (NBD_CMD_DISC)`);
        return 'stop';

      case NBD_CMD_WRITE: {
        // Every refusal of a WRITE still has to get past its payload.
        let refusal: [number, string] | undefined;
        if (length > exported.maxRequestBytes) refusal = [NBD_EINVAL, `a write of ${length} bytes is larger than the maximum request size ${exported.maxRequestBytes} (NBD_INFO_BLOCK_SIZE)`];
        else if (badFlags) refusal = [NBD_EINVAL, `flags 0x${flags.toString(16)} are not valid for ${name}`];
        else if (exported.readOnly) refusal = [NBD_EPERM, 'the export is read-only'];
        else if (pastEnd) refusal = [NBD_ENOSPC, range];
        if (refusal) {
          await refuse(...refusal);
          if (length > OVERSIZED_WRITE_DISCARD_LIMIT) {
            log.warn(`${peer} sent a write of ${length} bytes, above the ${OVERSIZED_WRITE_DISCARD_LIMIT}-byte limit this server reads past; closing the connection`);
            return 'stop';
          }
          await this.reader.skip(length);
          return 'continue';
        }
        await this.limit.admit(length);
        let data: Buffer;
        try {
          data = await this.reader.read(length);
        } catch (error) {
          this.limit.release(length);
          throw error;
        }
        this.dispatch(request, length, async () => {
          // The payload was read into a buffer of its own, which nothing reuses: a cache may keep it.
          await device.write(offset, data, { owned: true });
          if (fua) await device.flush();
          return successReply(request.cookie);
        });
        return 'continue';
      }

      case NBD_CMD_READ:
        if (badFlags) await refuse(NBD_EINVAL, `flags 0x${flags.toString(16)} are not valid for ${name}`);
        else if (length > exported.maxRequestBytes) await refuse(NBD_EINVAL, `a read of ${length} bytes is larger than the maximum request size ${exported.maxRequestBytes} (NBD_INFO_BLOCK_SIZE)`);
        else if (pastEnd) await refuse(NBD_EINVAL, range);
        else {
          await this.limit.admit(length);
          this.dispatch(request, length, async () => {
            // Whole blocks go out as the tier holds them (a cached block, the store's copy): no
            // reply-sized buffer and no copy per request, which at 1 MiB requests cost more CPU in
            // allocation and garbage collection than the rest of the read. Partial edges are copied.
            const pieces = await Promise.all(blockPieces(exported.blockSize, offset, length).map((piece) => device.read(offset + piece.at, piece.length)));
            return [readReplyHeader(structuredReplies, request.cookie, offset, length), ...pieces];
          });
        }
        return 'continue';

      case NBD_CMD_FLUSH:
        if (badFlags) await refuse(NBD_EINVAL, `flags 0x${flags.toString(16)} are not valid for ${name}`);
        else {
          await this.limit.admit(0);
          this.dispatch(request, 0, async () => {
            await device.flush();
            return successReply(request.cookie);
          });
        }
        return 'continue';

      case NBD_CMD_TRIM:
      case NBD_CMD_WRITE_ZEROES: {
        const noHole = type === NBD_CMD_WRITE_ZEROES && (flags & NBD_CMD_FLAG_NO_HOLE) !== 0;
        if (badFlags) await refuse(NBD_EINVAL, `flags 0x${flags.toString(16)} are not valid for ${name}`);
        else if (exported.readOnly) await refuse(NBD_EPERM, 'the export is read-only');
        // proto.md: ENOSPC for a write-zeroes past the end, EINVAL for a trim.
        else if (pastEnd) await refuse(type === NBD_CMD_TRIM ? NBD_EINVAL : NBD_ENOSPC, range);
        else {
          // With NO_HOLE a slice of real zeros is held while it is written.
          const cost = noHole ? Math.min(length, this.sliceBytes()) : 0;
          await this.limit.admit(cost);
          this.dispatch(request, cost, async () => {
            await this.zero(offset, length, noHole);
            if (fua) await device.flush();
            return successReply(request.cookie);
          });
        }
        return 'continue';
      }

      default:
        // proto.md: EINVAL for an unknown command. None of the commands this server does not
        // know (CACHE, BLOCK_STATUS, RESIZE) carries a payload, so the stream stays in step.
        await refuse(NBD_EINVAL, `${name} is not supported by this server`);
        return 'continue';
    }
  }

  /** Run an admitted request in the background; its reply (or error reply) releases its admission once written. */
  private dispatch(request: Request, cost: number, work: () => Promise<Buffer | Buffer[]>): void {
    const { log, peer, structuredReplies } = this.settings;
    work().then(
      (reply) => this.send(reply, cost),
      (error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        log.error(`${peer}: ${COMMAND_NAMES[request.type]} of ${request.length} bytes at offset ${request.offset} failed: ${message}`);
        this.send(errorReply(structuredReplies, request.cookie, nbdErrorOf(error), message, this.failedAt(request, error)), cost);
      },
    ).catch((error: unknown) => {
      // Only a bug gets here (send does not throw on a dead socket); the admission must still be released.
      log.error(`${peer}: internal error answering a request: ${String(error)}`);
      this.limit.release(cost);
    });
  }

  /**
   * Where in the request a failure starts, when the error names its block (and the command has a
   * range): the first byte of that block inside the request, for NBD_REPLY_TYPE_ERROR_OFFSET.
   */
  private failedAt(request: Request, error: unknown): number | undefined {
    if (request.type === NBD_CMD_FLUSH || !(error instanceof S3BackerError) || error.block === undefined) return undefined;
    const { blockSize } = this.settings.exported;
    const start = Number(request.offset);
    const blockStart = error.block * blockSize;
    if (blockStart >= start + request.length || blockStart + blockSize <= start) return undefined;
    return Math.max(start, blockStart);
  }

  /**
   * Write one whole reply, in one piece or several (header and data buffers): written back to back
   * while corked, so they leave as one writev and no other reply can come between them. The
   * admission it holds is released once the socket has taken the last piece.
   */
  private send(reply: Buffer | Buffer[], cost: number): void {
    if (this.socket.destroyed || !this.socket.writable) {
      this.limit.release(cost);
      return;
    }
    const pieces = Array.isArray(reply) ? reply : [reply];
    this.socket.cork();
    pieces.forEach((piece, i) => this.socket.write(piece, i === pieces.length - 1 ? () => this.limit.release(cost) : undefined));
    this.socket.uncork();
  }

  /** Slices of TRIM / WRITE_ZEROES: whole blocks, so only the request's own ends are partial blocks. */
  private sliceBytes(): number {
    const { blockSize } = this.settings.exported;
    return blockSize * Math.max(1, Math.floor(ZERO_SLICE_BYTES / blockSize));
  }

  /**
   * Zero a range slice by slice, so that a request for the whole disk never builds a list of every
   * block at once. By default the device's trim (whole blocks deleted, edges zero-filled); with
   * NBD_CMD_FLAG_NO_HOLE real zeros are written, as the flag asks (the store still keeps no object
   * for an all-zero block, but that is the store's business).
   */
  private async zero(offset: number, length: number, noHole: boolean): Promise<void> {
    const { device } = this.settings;
    const slice = this.sliceBytes();
    const zeros = noHole ? Buffer.alloc(Math.min(length, slice)) : undefined;
    for (let at = offset, end = offset + length; at < end;) {
      const next = Math.min(end, (Math.floor(at / slice) + 1) * slice);
      if (zeros) await device.write(at, zeros.subarray(0, next - at));
      else await device.trim(at, next - at);
      at = next;
    }
  }
}
