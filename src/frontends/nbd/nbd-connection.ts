import type { Socket } from 'node:net';
import type { BlockDevice } from '../../engine/block-device.js';
import type { Logger } from '../../engine/logger.js';
import type { NbdExport } from './nbd-export.js';
import type { NbdTls } from './nbd-tls.js';
import { NbdTransmission } from './nbd-transmission.js';
import { negotiateOptions } from './negotiate-options.js';
import { SocketReader } from './socket-reader.js';

export interface NbdConnectionSettings {
  readonly device: BlockDevice;
  readonly exported: NbdExport;
  readonly tls: NbdTls | undefined;
  readonly log: Logger;
  readonly maxInFlightRequests: number;
  readonly maxInFlightBytes: number;
  /** A client that has not entered the transmission phase this long after connecting is dropped; 0: never. */
  readonly handshakeTimeoutMs: number;
}

/**
 * After our last reply, the client is given this long to close its end; then the socket is
 * destroyed, so a client that never closes cannot hold the server's stop forever.
 */
const CLOSE_LINGER_MS = 2000;

/**
 * One client: the handshake, then the transmission phase, then the close. Whatever the client
 * does (breaks the protocol, resets the connection), `done` resolves, never rejects, and only
 * once the socket is closed and every device operation the client started has completed.
 */
export class NbdConnection {
  readonly done: Promise<void>;
  private phase: 'handshake' | 'transmission' | 'closing' = 'handshake';
  private stopping = false;
  private transmission: NbdTransmission | undefined;
  /** Every socket of this connection: the TCP/Unix one and, after STARTTLS, the TLS one over it. */
  private readonly sockets: Socket[] = [];
  /** The reader of the outermost socket. */
  private reader: SocketReader;
  private handshakeTimer: NodeJS.Timeout | undefined;

  constructor(socket: Socket, readonly peer: string, private readonly settings: NbdConnectionSettings) {
    this.watch(socket);
    this.reader = new SocketReader(socket);
    if (settings.handshakeTimeoutMs > 0) {
      // A connection that never negotiates would hold its socket forever (qemu-nbd's --handshake-limit does the same).
      this.handshakeTimer = setTimeout(() => {
        if (this.phase !== 'handshake') return;
        settings.log.warn(`${peer} did not complete the handshake within ${settings.handshakeTimeoutMs / 1000} s; closing the connection`);
        for (const each of this.sockets) each.destroy();
      }, settings.handshakeTimeoutMs);
    }
    this.done = this.run(socket).catch((error: unknown) => {
      settings.log.error(`${peer}: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
    }).finally(() => this.close());
  }

  /** Whether the client reached the transmission phase (NBD_OPT_GO or NBD_OPT_EXPORT_NAME succeeded). */
  get handshakeCompleted(): boolean {
    return this.transmission !== undefined;
  }

  /**
   * Finish and close: in the handshake the connection is dropped at once (nothing of the disk is
   * in use yet); in transmission the requests already read are completed and answered first.
   */
  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    if (this.phase === 'handshake') for (const socket of this.sockets) socket.destroy();
    else this.transmission?.stop();
  }

  private async run(socket: Socket): Promise<void> {
    const { settings, peer } = this;
    const negotiated = await negotiateOptions(socket, this.reader, {
      exported: settings.exported,
      tls: settings.tls,
      log: settings.log,
      peer,
      stopping: () => this.stopping,
      upgraded: (secure, reader) => {
        this.watch(secure);
        this.reader = reader;
      },
    });
    clearTimeout(this.handshakeTimer);
    if (negotiated.outcome !== 'transmission' || this.stopping) return;
    this.phase = 'transmission';
    settings.log.debug(`${peer} entered the transmission phase${negotiated.structuredReplies ? ' with structured replies' : ''}`);
    this.transmission = new NbdTransmission(negotiated.socket, negotiated.reader, {
      device: settings.device,
      exported: settings.exported,
      structuredReplies: negotiated.structuredReplies,
      log: settings.log,
      peer,
      maxInFlightRequests: settings.maxInFlightRequests,
      maxInFlightBytes: settings.maxInFlightBytes,
    });
    await this.transmission.run();
  }

  /** Every error of a socket is handled here: an ECONNRESET must never become an uncaught exception. */
  private watch(socket: Socket): void {
    this.sockets.push(socket);
    socket.on('error', (error: NodeJS.ErrnoException) => {
      this.settings.log.debug(`${this.peer}: socket error ${error.code ?? ''} ${error.message}`);
    });
  }

  /**
   * End the outermost socket (a TLS one sends its close_notify first), which sends what is still
   * queued, then wait for the close; a client that keeps its end open is cut off after a linger.
   */
  private async close(): Promise<void> {
    this.phase = 'closing';
    clearTimeout(this.handshakeTimer);
    // Whatever the client still sends is dropped, but read, so that its end of the stream is seen.
    this.reader.discardRest();
    const outer = this.sockets[this.sockets.length - 1]!;
    const closed = (socket: Socket) => new Promise<void>((resolve) => {
      if (socket.closed) resolve();
      else socket.once('close', () => resolve());
    });
    if (!outer.destroyed) {
      outer.end();
      const timer = setTimeout(() => { for (const socket of this.sockets) socket.destroy(); }, CLOSE_LINGER_MS);
      await closed(outer);
      clearTimeout(timer);
    }
    for (const socket of this.sockets) socket.destroy();
    await Promise.all(this.sockets.map(closed));
  }
}
