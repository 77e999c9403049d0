import { createServer, request, Agent, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request that went through the proxy: method and path with query (`POST /disk?delete`). */
export interface ProxiedRequest {
  method: string;
  url: string;
}

/** A scripted answer in place of the server's. */
export interface ScriptedAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export interface CountingProxyOptions {
  /** Answer a request here instead of forwarding it (a server that lacks a feature or fails some keys); undefined forwards. */
  intercept?: (request: ProxiedRequest & { body: Buffer }) => ScriptedAnswer | undefined | Promise<ScriptedAnswer | undefined>;
}

export interface CountingProxy {
  /** `http://127.0.0.1:PORT/`: give this as `--baseURL` instead of the server's. */
  endpoint: string;
  readonly requests: ProxiedRequest[];
  /** Requests whose method is `method` and whose URL matches `url`. */
  count(method: string, url?: RegExp): number;
  close(): Promise<void>;
}

/**
 * An HTTP proxy on 127.0.0.1 in front of a test server (s3rver) that records every request, so a
 * test can count what a client sent on the wire (DeleteObjects requests, single DELETEs) without
 * instrumenting the client, or answer some requests itself (`intercept`). Bodies and answers pass
 * through unchanged; s3rver does not verify signatures, so the changed Host does not matter.
 */
export async function startCountingProxy(target: string, options: CountingProxyOptions = {}): Promise<CountingProxy> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const requests: ProxiedRequest[] = [];
  const server = createServer(async (req, res) => {
    const seen = { method: req.method ?? '', url: req.url ?? '' };
    requests.push(seen);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const scripted = await options.intercept?.({ ...seen, body });
    if (scripted) {
      res.writeHead(scripted.status, scripted.headers ?? {});
      res.end(scripted.body ?? '');
      return;
    }
    const forward = request({
      host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers, agent,
    }, (answer: IncomingMessage) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502);
      res.end(String(error));
    });
    forward.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}/`,
    requests,
    count: (method, url) => requests.filter((r) => r.method === method && (url === undefined || url.test(r.url))).length,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
