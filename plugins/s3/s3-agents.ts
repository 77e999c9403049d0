import { Agent as HttpAgent } from 'node:http';
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
  const http = hooked(new HttpAgent({ keepAlive, maxSockets: options.maxSockets }), onPlainSocket, onDestroy);
  const https = hooked(new HttpsAgent({
    keepAlive, maxSockets: options.maxSockets,
    ...(trust.ca !== undefined ? { ca: trust.ca } : {}),
    ...(trust.rejectUnauthorized === false ? { rejectUnauthorized: false } : {}),
  }), onTlsSocket, onDestroy);
  if (options.traceHttp !== undefined) stopTracing = traceHttp([http, https], options.traceHttp);
  return { http, https };
}

/**
 * `agent`, made to show every connection it creates to `onSocket` and to call `onDestroy` after it
 * is destroyed. One function for both agents (HttpsAgent extends HttpAgent, and both create their
 * sockets through `this.createConnection`), so the plain and the TLS agent cannot drift apart.
 */
function hooked<A extends HttpAgent>(agent: A, onSocket: ConnectionHook, onDestroy: () => void): A {
  const target: HttpAgent = agent;
  const { createConnection, destroy } = target;
  target.createConnection = (...args) => {
    const socket = createConnection.apply(agent, args);
    onSocket(socket);
    return socket;
  };
  target.destroy = () => {
    destroy.call(agent);
    onDestroy();
  };
  return agent;
}
