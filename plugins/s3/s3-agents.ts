import { Agent as HttpAgent, type ClientRequestArgs } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Duplex } from 'node:stream';
import { traceHttp } from './debug-http.js';
import { applyTypeOfService } from './ip-tos.js';
import { explainCertificateError, type TlsTrust } from './tls-options.js';

/** How the store's connections are made; S3StoreOptions.connection (all optional, defaults as libcurl's). */
export interface S3ConnectionOptions {
  /**
   * False: every request opens a connection of its own and closes it after the answer
   * (`--noCurlCache`: the C tool then takes a fresh libcurl handle, and so a fresh connection, for
   * every request, http_io.c). Default true: connections are kept alive and reused.
   */
  keepAlive?: boolean;
  /** `--cacert` / `--insecure` (tls-options.ts). */
  tls?: TlsTrust;
  /** `--ipTOS`, applied where Node can (ip-tos.ts). */
  typeOfService?: number;
  /** `--debug-http`: where the request and answer lines go (debug-http.ts). */
  traceHttp?: (line: string) => void;
  /** A problem with a connection option (a failed setsockopt), reported once. */
  warn?: (message: string) => void;
}

export interface S3Agents {
  http: HttpAgent;
  https: HttpsAgent;
}

type ConnectionHook = (socket: Duplex | null | undefined) => void;

/**
 * The store's pair of agents, shared by the lean object path and the S3Client's request handler, so
 * every connection option applies to both. Destroying either agent also stops `--debug-http`
 * tracing (the store destroys both on close).
 */
export function createS3Agents(options: S3ConnectionOptions & { maxSockets: number }): S3Agents {
  const keepAlive = options.keepAlive ?? true;
  let warned = false;
  const warnOnce = (message: string): void => {
    if (warned) return;
    warned = true;
    options.warn?.(message);
  };
  const tos = options.typeOfService;
  const onPlainSocket: ConnectionHook = (socket) => {
    if (tos !== undefined) applyTypeOfService(socket, tos, warnOnce);
  };
  const trust = options.tls ?? {};
  const onTlsSocket: ConnectionHook = (socket) => {
    onPlainSocket(socket);
    // Registered before the request's own listener (it comes with the request's 'socket' event), so
    // the request rejects with the explained error.
    socket?.on('error', (error) => explainCertificateError(error, trust));
  };
  let stopTracing: (() => void) | undefined;
  const onDestroy = (): void => stopTracing?.();
  const http = new HookedHttpAgent({ keepAlive, maxSockets: options.maxSockets }, onPlainSocket, onDestroy);
  const https = new HookedHttpsAgent({
    keepAlive, maxSockets: options.maxSockets,
    ...(trust.ca !== undefined ? { ca: trust.ca } : {}),
    ...(trust.rejectUnauthorized === false ? { rejectUnauthorized: false } : {}),
  }, onTlsSocket, onDestroy);
  if (options.traceHttp !== undefined) stopTracing = traceHttp([http, https], options.traceHttp);
  return { http, https };
}

class HookedHttpAgent extends HttpAgent {
  constructor(options: ConstructorParameters<typeof HttpAgent>[0], private readonly onSocket: ConnectionHook, private readonly onDestroy: () => void) {
    super(options);
  }

  override createConnection(...args: Parameters<HttpAgent['createConnection']>): ReturnType<HttpAgent['createConnection']> {
    const socket = super.createConnection(...args);
    this.onSocket(socket);
    return socket;
  }

  override destroy(): void {
    super.destroy();
    this.onDestroy();
  }
}

class HookedHttpsAgent extends HttpsAgent {
  constructor(options: ConstructorParameters<typeof HttpsAgent>[0], private readonly onSocket: ConnectionHook, private readonly onDestroy: () => void) {
    super(options);
  }

  override createConnection(...args: [options: ClientRequestArgs, callback?: (err: Error | null, stream: Duplex) => void]): Duplex | null | undefined {
    const socket = super.createConnection(...args);
    this.onSocket(socket);
    return socket;
  }

  override destroy(): void {
    super.destroy();
    this.onDestroy();
  }
}
