import { Agent, createServer as createHttpServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** Path and query, as received. */
  url: string;
  headers: IncomingHttpHeaders;
  /** `1.1`, ... */
  httpVersion: string;
  /** Which client connection (1, 2, ...) carried it; 0 over https. */
  connection: number;
}

export interface RecordingProxy {
  /** `http://127.0.0.1:PORT/`, or `https://localhost:PORT/` with `tls` (the test certificate's name). */
  endpoint: string;
  port: number;
  requests: RecordedRequest[];
  /** Client connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

/**
 * A reverse proxy on 127.0.0.1 in front of a real S3 endpoint (s3rver): every request is recorded
 * as it arrived (method, URL, headers, which client connection) and forwarded unchanged, so a test
 * sees exactly what went on the wire while the answers stay real. With `tls` it terminates https,
 * for the certificate options. `answer` may answer a request itself instead of forwarding it.
 */
export async function startRecordingProxy(options: {
  target: string;
  tls?: { key: Buffer; cert: Buffer };
  answer?: (req: IncomingMessage, res: ServerResponse) => boolean;
}): Promise<RecordingProxy> {
  const target = new URL(options.target);
  const requests: RecordedRequest[] = [];
  const upstream = new Agent({ keepAlive: true });
  let connections = 0;
  const connectionIds = new WeakMap<object, number>();
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    requests.push({ method: req.method!, url: req.url!, headers: req.headers, httpVersion: req.httpVersion, connection: connectionIds.get(req.socket) ?? 0 });
    if (options.answer?.(req, res)) return;
    const forwarded = request({
      hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent: upstream,
    }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, answer.headers);
      answer.pipe(res);
    });
    forwarded.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy: ${error.message}`);
    });
    req.pipe(forwarded);
  };
  const server: Server = options.tls ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, handler) : createHttpServer(handler);
  // Count TCP connections (an https server also emits 'connection' for each one, before TLS).
  server.on('connection', (socket) => { connectionIds.set(socket, ++connections); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: options.tls ? `https://localhost:${port}/` : `http://127.0.0.1:${port}/`,
    port,
    requests,
    connections: () => connections,
    close: () => new Promise<void>((resolve) => {
      upstream.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
