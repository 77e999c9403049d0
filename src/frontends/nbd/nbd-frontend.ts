import { createServer, type Server, type Socket } from 'node:net';
import type { BlockDevice } from '../../engine/block-device.js';
import type { Logger } from '../../engine/logger.js';
import { S3BackerError } from '../../errors/s3backer-error.js';
import type { Frontend, StopRequest } from '../frontend.js';
import { NbdConnection } from './nbd-connection.js';
import type { NbdExport } from './nbd-export.js';
import { NbdTls, type NbdTlsFiles } from './nbd-tls.js';
import { nbdUri } from './nbd-uri.js';
import { parseNbdAddress, type NbdAddress } from './parse-nbd-address.js';
import { UnixSocketFile } from './unix-socket-file.js';

export interface NbdFrontendOptions {
  /** `unix:/path/to.sock`, `HOST:PORT`, `[IPv6]:PORT` (see parseNbdAddress), or one already parsed. */
  listen: string | NbdAddress;
  /** The export's name (the volume's); the empty name selects it too. */
  exportName: string;
  /** Shown by clients that ask for it (NBD_INFO_DESCRIPTION, NBD_OPT_LIST). Default: "s3backer volume". */
  exportDescription?: string;
  /** Export read-only (NBD_FLAG_READ_ONLY): writes, trims and zeroing fail with EPERM. Also when the device is. */
  readOnly?: boolean;
  /** Certificate and key files: every client must then upgrade with NBD_OPT_STARTTLS before anything else. */
  tls?: NbdTlsFiles;
  /**
   * End the server once a client that completed the handshake has disconnected and no other
   * connection is open (s3backer attaching the kernel's nbd-client); otherwise serve until
   * `requestStop`.
   */
  once?: boolean;
  log: Logger;
  /** Largest READ/WRITE payload accepted, advertised in NBD_INFO_BLOCK_SIZE. Default 32 MiB (proto.md's default). */
  maxRequestBytes?: number;
  /** Requests one connection may have outstanding before the server stops reading from it. Default 64. */
  maxInFlightRequests?: number;
  /** A client must reach the transmission phase within this many ms of connecting, or it is dropped; 0: no limit. Default 10 s (as qemu-nbd's --handshake-limit). */
  handshakeTimeoutMs?: number;
}

export const DEFAULT_MAX_REQUEST_BYTES = 32 * 1024 * 1024;
const DEFAULT_MAX_IN_FLIGHT_REQUESTS = 64;
const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
/**
 * Payload bytes one connection may have outstanding (writes being stored, reads being sent): two
 * maximum-size requests, and never less than 64 MiB, so that 64 requests of 1 MiB all overlap.
 */
const MIN_IN_FLIGHT_BYTES = 64 * 1024 * 1024;

/**
 * The disk as an NBD export (proto.md of github.com/NetworkBlockDevice/nbd), spoken directly:
 * no nbdkit, no qemu-nbd. One listener, one export, any number of connections, all serving the
 * same BlockDevice (hence NBD_FLAG_CAN_MULTI_CONN).
 */
export class NbdFrontend implements Frontend {
  readonly closed: Promise<void>;
  private readonly listenAddress: NbdAddress;
  private boundAddress: NbdAddress | undefined;
  private readonly maxRequestBytes: number;
  private readonly maxInFlightRequests: number;
  private readonly socketFile: UnixSocketFile | undefined;
  private server: Server | undefined;
  private readonly connections = new Set<NbdConnection>();
  private nextClient = 1;
  private started = false;
  private stopping = false;
  /** `once`: a client that had completed the handshake has gone. */
  private clientFinished = false;
  /** Settles when start() has finished, listening or not: a stop requested meanwhile waits for it. */
  private starting: Promise<unknown> = Promise.resolve();
  private serverClosed: Promise<void> = Promise.resolve();
  private settleClosed!: () => void;

  constructor(private readonly options: NbdFrontendOptions) {
    this.listenAddress = typeof options.listen === 'string' ? parseNbdAddress(options.listen) : options.listen;
    this.maxRequestBytes = options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
    if (!Number.isSafeInteger(this.maxRequestBytes) || this.maxRequestBytes < 4096 || this.maxRequestBytes > 2 ** 30) {
      throw new S3BackerError('S3B_CONFIG_INVALID', `the NBD maximum request size must be a whole number of bytes from 4096 to 1 GiB, not ${String(options.maxRequestBytes)}`);
    }
    this.maxInFlightRequests = options.maxInFlightRequests ?? DEFAULT_MAX_IN_FLIGHT_REQUESTS;
    if (!Number.isSafeInteger(this.maxInFlightRequests) || this.maxInFlightRequests < 1) {
      throw new S3BackerError('S3B_CONFIG_INVALID', `the NBD in-flight request limit must be a positive whole number, not ${String(options.maxInFlightRequests)}`);
    }
    if (options.handshakeTimeoutMs !== undefined && (!Number.isSafeInteger(options.handshakeTimeoutMs) || options.handshakeTimeoutMs < 0)) {
      throw new S3BackerError('S3B_CONFIG_INVALID', `the NBD handshake time limit must be a whole number of milliseconds (0 for none), not ${String(options.handshakeTimeoutMs)}`);
    }
    if (Buffer.byteLength(options.exportName) > 4096) {
      throw new S3BackerError('S3B_CONFIG_INVALID', 'the NBD export name is longer than the protocol\'s 4096 bytes; choose a shorter one');
    }
    this.socketFile = this.listenAddress.kind === 'unix' ? new UnixSocketFile(this.listenAddress.path) : undefined;
    this.closed = new Promise<void>((resolve) => { this.settleClosed = resolve; });
  }

  /** The NBD URI clients connect to (with the real port once listening on port 0). */
  get description(): string {
    return nbdUri(this.address, this.options.exportName, this.options.tls !== undefined);
  }

  /** Where the server listens: the bound port once started (useful with port 0). */
  get address(): NbdAddress {
    return this.boundAddress ?? this.listenAddress;
  }

  async start(device: BlockDevice): Promise<void> {
    if (this.started) throw new S3BackerError('S3B_ENGINE_STATE', 'the NBD front end was started twice; create one per volume served');
    if (this.stopping) throw new S3BackerError('S3B_ENGINE_STATE', 'the NBD front end was asked to stop before it started');
    this.started = true;
    try {
      await (this.starting = this.listen(device));
      // Asked to stop while it was starting: the listener goes at once.
      if (this.stopping) {
        this.server?.close();
        return;
      }
    } catch (error) {
      // Nothing was served: nothing will close later either.
      this.stopping = true;
      this.settleClosed();
      throw error;
    }
    this.options.log.info(`serving the disk over NBD at ${this.description}${this.exported(device).readOnly ? ' (read-only)' : ''}`);
  }

  async requestStop(why: string): Promise<StopRequest> {
    if (!this.stopping) {
      const open = [...this.connections].filter((connection) => connection.handshakeCompleted).length;
      this.options.log.info(`${why}: stopping the NBD server${open === 0 ? '' : open === 1 ? '; its client connection finishes its requests first' : `; ${open} client connections finish their requests first`}`);
      this.stop();
    }
    return { outcome: 'stopping' };
  }

  private exported(device: BlockDevice): NbdExport {
    return {
      name: this.options.exportName,
      description: this.options.exportDescription ?? 's3backer volume',
      size: device.size,
      readOnly: this.options.readOnly === true || device.readOnly,
      blockSize: device.geometry.blockSize,
      maxRequestBytes: this.maxRequestBytes,
    };
  }

  private async listen(device: BlockDevice): Promise<void> {
    const tls = this.options.tls ? await NbdTls.load(this.options.tls) : undefined;
    await this.socketFile?.clearStale();
    const exported = this.exported(device);
    const settings = {
      device, exported, tls, log: this.options.log,
      maxInFlightRequests: this.maxInFlightRequests,
      maxInFlightBytes: Math.max(MIN_IN_FLIGHT_BYTES, 2 * this.maxRequestBytes),
      handshakeTimeoutMs: this.options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
    };
    // allowHalfOpen: a client that shuts down its sending side (after NBD_CMD_DISC, say) still gets
    // the replies of requests in flight; the connection ends its side itself once they are sent.
    const server = createServer({ allowHalfOpen: true, noDelay: true, keepAlive: true, keepAliveInitialDelay: 60_000 }, (socket) => this.accept(socket, settings));
    const address = this.listenAddress;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => reject(new S3BackerError('S3B_CONFIG_INVALID',
        `cannot listen for NBD clients on ${address.kind === 'unix' ? address.path : `${address.host}:${address.port}`}: ${error.code === 'EADDRINUSE' ? 'the address is in use' : error.message}; choose another address`,
        { cause: error })));
      if (address.kind === 'unix') server.listen(address.path, resolve);
      else server.listen({ host: address.host, port: address.port }, resolve);
    });
    server.on('error', (error) => this.options.log.warn(`NBD listener: ${error.message}`));
    this.server = server;
    this.serverClosed = new Promise<void>((resolve) => server.once('close', () => resolve()));
    const bound = server.address();
    if (address.kind === 'tcp' && bound && typeof bound === 'object') this.boundAddress = { kind: 'tcp', host: address.host, port: bound.port };
    await this.socketFile?.created();
  }

  private accept(socket: Socket, settings: ConstructorParameters<typeof NbdConnection>[2]): void {
    if (this.stopping) {
      socket.on('error', () => {});
      socket.destroy();
      return;
    }
    const id = this.nextClient++;
    const peer = `NBD client #${id}${socket.remoteAddress ? ` (${socket.remoteAddress}:${socket.remotePort})` : ''}`;
    this.options.log.debug(`${peer} connected`);
    const connection = new NbdConnection(socket, peer, settings);
    this.connections.add(connection);
    void connection.done.then(() => {
      this.connections.delete(connection);
      this.options.log.debug(`${peer} closed`);
      if (connection.handshakeCompleted) this.clientFinished = true;
      if (this.options.once && this.clientFinished && this.connections.size === 0 && !this.stopping) {
        this.options.log.info('the NBD client disconnected; stopping the NBD server');
        this.stop();
      }
      if (this.stopping) this.finishWhenIdle();
    });
  }

  private stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    this.server?.close();
    for (const connection of this.connections) connection.stop();
    this.finishWhenIdle();
  }

  /** `closed` settles once the listener is closed, every connection is done, and the socket file is gone. */
  private finishWhenIdle(): void {
    if (this.connections.size > 0) return;
    void this.starting.catch(() => {}).then(() => this.serverClosed).then(async () => {
      const problem = await this.socketFile?.remove();
      if (problem) this.options.log.warn(problem);
      this.settleClosed();
    });
  }
}
