import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Agent, ClientRequest, IncomingMessage, OutgoingHttpHeader } from 'node:http';
import { performance } from 'node:perf_hooks';

/** Request headers worth a line: what the request asks for, never what proves who asks. */
const REQUEST_HEADERS = [
  'content-length', 'content-type', 'content-encoding', 'content-md5', 'range', 'if-match', 'if-none-match', 'x-amz-acl',
  'x-amz-storage-class', 'x-amz-server-side-encryption', 'x-amz-server-side-encryption-aws-kms-key-id', 'x-amz-date',
];
const RESPONSE_HEADERS = [
  'content-length', 'content-type', 'content-encoding', 'etag', 'last-modified', 'location', 'retry-after',
  'x-amz-server-side-encryption', 'x-amz-storage-class', 'x-amz-bucket-region', 'x-amz-request-id', 'x-amz-id-2',
];
/** Query parameters of a presigned URL that sign or authenticate it (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html). */
const SECRET_QUERY = /^x-amz-(signature|credential|security-token)$/i;

/**
 * `--debug-http`: one line per request sent on the store's agents and one per answer (or failure),
 * with the method, the URL, the status, selected headers and the time to the answer's headers, as the
 * C tool's CURLOPT_VERBOSE shows them (http_io.c). Never the Authorization header, the signature,
 * the session token or a key: a request line only says whether it was signed.
 *
 * Node publishes every client request on diagnostics channels
 * (https://nodejs.org/docs/latest-v20.x/api/diagnostics_channel.html#http), so both object paths
 * (node:http directly, and the SDK's request handler) are traced in one place; requests on other
 * agents (the instance metadata service, other stores in the process) are left out. Returns the
 * function that stops tracing.
 */
export function traceHttp(agents: readonly Agent[], log: (line: string) => void): () => void {
  const ours = new Set<unknown>(agents);
  const started = new WeakMap<ClientRequest, number>();
  const onStart = (message: unknown): void => {
    const { request } = message as { request: ClientRequest };
    if (!ours.has((request as ClientRequest & { agent?: unknown }).agent)) return;
    started.set(request, performance.now());
    const auth = request.hasHeader('authorization') ? (request.hasHeader('x-amz-security-token') ? 'signed, with a session token' : 'signed') : 'unsigned';
    log(`> ${request.method} ${requestUrl(request)} (${[auth, ...selected(REQUEST_HEADERS, (name) => request.getHeader(name), request.getHeaderNames())].join('; ')})`);
  };
  const onResponse = (message: unknown): void => {
    const { request, response } = message as { request: ClientRequest; response: IncomingMessage };
    const start = started.get(request);
    if (start === undefined) return;
    const headers = selected(RESPONSE_HEADERS, (name) => response.headers[name], Object.keys(response.headers));
    log(`< ${response.statusCode ?? '?'} ${response.statusMessage ?? ''} for ${request.method} ${requestUrl(request)} after ${elapsed(start)}${headers.length > 0 ? ` (${headers.join('; ')})` : ''}`);
  };
  const onError = (message: unknown): void => {
    const { request, error } = message as { request: ClientRequest; error: Error & { code?: string } };
    const start = started.get(request);
    if (start === undefined) return;
    log(`! ${request.method} ${requestUrl(request)} failed after ${elapsed(start)}: ${error.code !== undefined ? `${error.code} ` : ''}${error.message}`);
  };
  subscribe('http.client.request.start', onStart);
  subscribe('http.client.response.finish', onResponse);
  subscribe('http.client.request.error', onError);
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    unsubscribe('http.client.request.start', onStart);
    unsubscribe('http.client.response.finish', onResponse);
    unsubscribe('http.client.request.error', onError);
  };
}

/** `http://host:port/path?query`, any signing query parameter's value replaced. */
function requestUrl(request: ClientRequest): string {
  const host = String(request.getHeader('host') ?? request.host);
  const [path, query] = splitOnce(request.path, '?');
  if (query === undefined) return `${request.protocol}//${host}${path}`;
  const redacted = query.split('&').map((pair) => {
    const [name] = splitOnce(pair, '=');
    return SECRET_QUERY.test(safeDecode(name)) ? `${name}=REDACTED` : pair;
  });
  return `${request.protocol}//${host}${path}?${redacted.join('&')}`;
}

/** `name: value` for the listed headers and every `x-amz-meta-*` one that is present. */
function selected(names: readonly string[], get: (name: string) => OutgoingHttpHeader | undefined, present: readonly string[]): string[] {
  const wanted = [...names, ...present.filter((name) => name.startsWith('x-amz-meta-')).sort()];
  const lines: string[] = [];
  for (const name of wanted) {
    const value = get(name);
    if (value !== undefined) lines.push(`${name}: ${Array.isArray(value) ? value.join(', ') : String(value)}`);
  }
  return lines;
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function elapsed(start: number): string {
  return `${(performance.now() - start).toFixed(1)} ms`;
}
