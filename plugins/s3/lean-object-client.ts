import { request as httpRequest, type Agent as HttpAgent, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type RequestOptions } from 'node:http';
import { request as httpsRequest, type Agent as HttpsAgent } from 'node:https';
import { SignatureV4, type SignatureV4Init } from '@smithy/signature-v4';
import { Sha256 } from '@smithy/core/checksum';
import { BodyCollector } from './body-collector.js';
import type { ClockSkew } from './clock-skew.js';
import { objectPath, type S3ObjectEndpoint } from './s3-object-endpoint.js';
import { S3ResponseError } from './s3-response-error.js';

/** What a GET or HEAD answer says about an object (the ObjectStore's ObjectInfo, minus its size rule). */
export interface LeanObjectInfo {
  etag: string;
  /** Content-Length of the answer, when there was one. */
  contentLength: number | undefined;
  /** `x-amz-meta-*` headers, the prefix stripped (node already lower-cases header names). */
  metadata: Record<string, string>;
  contentEncoding: string | undefined;
  contentType: string | undefined;
}

export interface LeanPutHeaders {
  contentType: string;
  contentEncoding?: string | undefined;
  metadata?: Record<string, string> | undefined;
  acl?: string | undefined;
  ifNoneMatch?: '*' | undefined;
  /** Further headers, already lower-case and S3-spelled: `--sse`, `--storageClass` (put-headers.ts). */
  extra?: Readonly<Record<string, string>> | undefined;
}

export interface LeanObjectClientOptions {
  endpoint: S3ObjectEndpoint;
  /**
   * The S3Client's resolved credential provider (static keys or the default chain, with the SDK's
   * own caching and refresh); `undefined` for anonymous requests, which are sent unsigned.
   */
  credentials: SignatureV4Init['credentials'] | undefined;
  clock: ClockSkew;
  /** The keep-alive agent the S3Client's request handler uses for this endpoint's protocol. */
  agent: HttpAgent | HttpsAgent;
  /** `--timeout`: the answer's headers within this of the start (connection included), and no longer idle gap after. */
  timeoutMs: number;
  /** The store's abort(): destroys every request in flight, which then rejects with the signal's reason. */
  signal?: AbortSignal;
}

interface Answer {
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Error bodies are a few hundred bytes; keep no more than this of a strange one. */
const MAX_ERROR_BODY = 64 * 1024;
const EMPTY = Buffer.alloc(0);
/** Node socket errors the SDK's NodeHttpHandler renames `TimeoutError` (kept, so failures classify alike). */
const SDK_TIMEOUT_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT']);

/**
 * The block path: GET, PUT, DELETE and HEAD of single objects, sent with node:http(s) on the
 * S3Client's own keep-alive agents and signed by the SDK's `SignatureV4` (with the SDK's SHA-256
 * and the client's credential provider), without the SDK's per-request middleware stack (endpoint
 * rules, serde, auth-scheme selection, retry middleware), which is most of its CPU per request.
 * One call is one attempt: retries, stats and error messages stay in S3Store.perform. Failures
 * reject with what the SDK would reject with: S3ResponseError (an S3ServiceException look-alike)
 * for an HTTP error status, node's socket error, or a `TimeoutError`.
 *
 * The payload is signed (`x-amz-content-sha256` = the body's SHA-256) over https as over http,
 * as the SDK does: the server then rejects a body that differs from what was hashed, end to end.
 */
export class LeanObjectClient {
  private readonly endpoint: S3ObjectEndpoint;
  private readonly signer: SignatureV4 | undefined;
  private readonly clock: ClockSkew;
  private readonly agent: HttpAgent | HttpsAgent;
  private readonly timeoutMs: number;
  private readonly signal: AbortSignal | undefined;
  private readonly send: typeof httpRequest;

  constructor(options: LeanObjectClientOptions) {
    this.endpoint = options.endpoint;
    this.clock = options.clock;
    this.agent = options.agent;
    this.timeoutMs = options.timeoutMs;
    this.signal = options.signal;
    this.send = options.endpoint.protocol === 'https:' ? httpsRequest : httpRequest;
    this.signer = options.credentials === undefined ? undefined : new SignatureV4({
      credentials: options.credentials,
      region: options.endpoint.signingRegion,
      service: options.endpoint.signingName,
      sha256: Sha256,
      // S3 signs the path as sent (the SDK's signingEscapePath: false, disableDoubleEncoding).
      uriEscapePath: false,
      applyChecksum: true,
    });
  }

  /**
   * The body is one Buffer: the socket's chunk as is when the body came in one, else one concat.
   * `ifMatch` is sent as the `If-Match` header, as given (if-match-header.ts makes the value): a
   * server that holds another version answers 412, which rejects like any error status.
   */
  async get(key: string, options: { ifMatch?: string | undefined } = {}): Promise<{ body: Buffer; info: LeanObjectInfo }> {
    const answer = await this.exchange('GET', key, options.ifMatch === undefined ? {} : { 'if-match': options.ifMatch }, undefined, true);
    return { body: answer.body, info: objectInfo(answer.headers) };
  }

  async head(key: string): Promise<LeanObjectInfo> {
    return objectInfo((await this.exchange('HEAD', key, {}, undefined, false)).headers);
  }

  /** The server's ETag header, if it sent one. */
  async put(key: string, body: Buffer, put: LeanPutHeaders): Promise<{ etag: string | undefined }> {
    const headers: OutgoingHttpHeaders = { 'content-type': put.contentType, 'content-length': String(body.length) };
    if (put.contentEncoding !== undefined) headers['content-encoding'] = put.contentEncoding;
    if (put.metadata !== undefined) {
      for (const name of Object.keys(put.metadata)) headers[`x-amz-meta-${name}`] = put.metadata[name];
    }
    if (put.acl !== undefined) headers['x-amz-acl'] = put.acl;
    if (put.ifNoneMatch !== undefined) headers['if-none-match'] = put.ifNoneMatch;
    if (put.extra !== undefined) Object.assign(headers, put.extra);
    const answer = await this.exchange('PUT', key, headers, body, false);
    return { etag: single(answer.headers.etag) };
  }

  async delete(key: string): Promise<void> {
    await this.exchange('DELETE', key, {}, undefined, false);
  }

  /** One signed request and its whole answer; rejects on an error status, a socket error or the timeout. */
  private async exchange(method: string, key: string, headers: OutgoingHttpHeaders, body: Buffer | undefined, wantBody: boolean): Promise<Answer> {
    const path = objectPath(this.endpoint, key);
    headers.host = this.endpoint.host;
    const offsetWhenSigned = this.clock.offset;
    const sentAt = Date.now();
    let wire = headers;
    if (this.signer !== undefined) {
      const signed = await this.signer.sign({
        method, protocol: this.endpoint.protocol, hostname: this.endpoint.hostname, port: this.endpoint.port, path,
        query: {}, headers: headers as Record<string, string>, body,
      }, { signingDate: new Date(sentAt + offsetWhenSigned) });
      wire = signed.headers;
    }
    const answer = await this.transfer(method, path, wire, body, wantBody);
    const status = answer.status;
    if (status >= 200 && status < 300) {
      this.clock.sample(single(answer.headers.date), sentAt, single(answer.headers.age));
      return answer;
    }
    const error = new S3ResponseError(status, answer.headers, answer.body.toString('utf8'));
    if (this.clock.correct(error.ServerTime ?? single(answer.headers.date), sentAt, offsetWhenSigned, single(answer.headers.age))) {
      error.$metadata.clockSkewCorrected = true;
    }
    throw error;
  }

  private transfer(method: string, path: string, headers: OutgoingHttpHeaders, body: Buffer | undefined, wantBody: boolean): Promise<Answer & { status: number }> {
    const { timeoutMs, signal } = this;
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      let settled = false;
      let response: IncomingMessage | undefined;
      const fail = (error: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        signal?.removeEventListener('abort', onAbort);
        response?.destroy();
        req.destroy();
        reject(error);
      };
      const onAbort = (): void => fail(signal!.reason as Error);
      const options: RequestOptions = {
        hostname: this.endpoint.hostname, port: this.endpoint.port, method, path, headers, agent: this.agent,
        // Socket inactivity, from before the connection is made to the end of the body.
        timeout: timeoutMs,
      };
      const req = this.send(options);
      // Connection and answer headers within --timeout, as the SDK's requestTimeout.
      const deadline = setTimeout(() => fail(timeoutError(`no answer within ${timeoutMs} ms (--timeout)`)), timeoutMs);
      req.on('timeout', () => fail(timeoutError(`no data for ${timeoutMs} ms (--timeout)`)));
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code !== undefined && SDK_TIMEOUT_CODES.has(error.code)) error.name = 'TimeoutError';
        fail(error);
      });
      req.on('response', (res: IncomingMessage) => {
        response = res;
        clearTimeout(deadline);
        const status = res.statusCode ?? 0;
        const ok = status >= 200 && status < 300;
        const body = ok && wantBody ? new BodyCollector(res.headers['content-length']) : undefined;
        const chunks: Buffer[] = [];
        let size = 0;
        if (body !== undefined) {
          res.on('data', (chunk: Buffer) => body.add(chunk));
        } else if (ok) {
          res.resume();
        } else {
          res.on('data', (chunk: Buffer) => {
            if (size < MAX_ERROR_BODY) chunks.push(chunk);
            size += chunk.length;
          });
        }
        res.on('end', () => {
          if (settled) return;
          const received = body !== undefined ? body.result() : chunks.length === 0 ? EMPTY : Buffer.concat(chunks);
          if (received === undefined) {
            fail(Object.assign(new Error(`the body ended after ${body!.received} of ${body!.expected} bytes`), { code: 'ECONNRESET' }));
            return;
          }
          settled = true;
          signal?.removeEventListener('abort', onAbort);
          resolve({ status, headers: res.headers, body: received });
        });
        // A reset mid-body (node: ECONNRESET "aborted"): a network failure, retried.
        res.on('error', fail);
        res.on('close', () => {
          if (!settled) fail(Object.assign(new Error('the connection closed before the answer was complete'), { code: 'ECONNRESET' }));
        });
      });
      req.end(body);
    });
  }
}

function objectInfo(headers: IncomingHttpHeaders): LeanObjectInfo {
  const metadata: Record<string, string> = {};
  for (const name of Object.keys(headers)) {
    if (name.startsWith('x-amz-meta-')) metadata[name.slice('x-amz-meta-'.length)] = single(headers[name])!;
  }
  const length = single(headers['content-length']);
  return {
    etag: single(headers.etag) ?? '',
    contentLength: length === undefined ? undefined : Number(length),
    metadata,
    contentEncoding: single(headers['content-encoding']),
    contentType: single(headers['content-type']),
  };
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

function timeoutError(message: string): Error {
  return Object.assign(new Error(message), { name: 'TimeoutError', code: 'ETIMEDOUT' });
}
