import { setMaxListeners } from 'node:events';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { performance } from 'node:perf_hooks';
import {
  S3Client, HeadBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, DeleteObjectCommand, ListObjectsCommand,
  type S3ClientConfig, type ObjectCannedACL,
} from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { PreconditionFailedError, S3BackerError, closedStoreError, type DeleteManyResult, type GetOptions, type ListOptions, type Logger, type ObjectInfo, type ObjectStore, type PutOptions, type StoredObject } from 's3backer';
import type { S3Credentials } from './credentials.js';
import { describeFailure, isRetryableFailure, formatFailure, type S3Failure } from './s3-failure.js';
import { S3Stats, type S3Method } from './s3-stats.js';
import { ClockSkew, isClockSkewCorrected } from './clock-skew.js';
import { LeanObjectClient, type LeanObjectInfo } from './lean-object-client.js';
import { resolveS3ObjectEndpoint } from './s3-object-endpoint.js';
import { createS3Agents, type S3ConnectionOptions } from './s3-agents.js';
import { putHeaders, type PutHeaderOptions, type PutHeaders } from './put-headers.js';
import { bulkDelete } from './bulk-delete.js';
import { ifMatchHeader } from './if-match-header.js';

export interface S3StoreOptions {
  /** Service endpoint, e.g. `http://127.0.0.1:4568` or `https://s3.eu-west-1.amazonaws.com`. */
  endpoint: string;
  bucket: string;
  /** Signing region. */
  region: string;
  /** Path-style URLs (`endpoint/bucket/key`); false puts the bucket in the host name. */
  forcePathStyle: boolean;
  credentials: S3Credentials;
  /** Limit for one HTTP attempt, connection included (`--timeout`). */
  timeoutMs: number;
  /** Canned ACL sent with every PUT (`--accessType`). */
  acl?: ObjectCannedACL;
  /**
   * Whether the server honours `If-None-Match: *` on PUT (AWS does since 2024). s3rver 3.7.1
   * ignores it and overwrites, so tests against it turn this off. Default true.
   */
  conditionalPut?: boolean;
  /**
   * Whether the server honours `If-Match` on GET, answering 412 for another version (AWS and
   * radosgw do). s3rver 3.7.1 ignores it and answers 200, so tests against it turn this off.
   * Either way `get(key, { ifMatch })` sends the header; this only sets `supports.conditionalGet`.
   * Default true.
   */
  conditionalGet?: boolean;
  /** The volume's prefix; only for `description`, the engine already puts it in every key. */
  prefix?: string;
  stats?: S3Stats;
  /** Debug log of every request (`--debug`). */
  logger?: Logger;
  /** Keep-alive connections per agent. Default 64. */
  maxSockets?: number;
  /**
   * How GET/PUT/DELETE/HEAD of objects are sent: `lean` (default) on node:http with the SDK's
   * SigV4 signer (lean-object-client.ts), `sdk` through S3Client like everything else. Listing and
   * the bucket check always use S3Client.
   */
  objectPath?: 'lean' | 'sdk';
  /** `--cacert`, `--insecure`, `--noCurlCache`, `--ipTOS`, `--debug-http`, for both object paths (s3-agents.ts). */
  connection?: S3ConnectionOptions;
  /** `--sse`, `--sse-key-id`, `--storageClass`: headers of every PUT (put-headers.ts). */
  putHeaders?: PutHeaderOptions;
}

/** The precondition a request carried: its 412 is the answer PreconditionFailedError, not a failure. */
type Condition = { ifNoneMatch: true } | { ifMatch: string };

/** Outcome of one attempt that answered 404 where 404 is an answer (GET/HEAD null, DELETE ok). */
const NOT_FOUND = Symbol('not-found');

/**
 * Objects in an S3 bucket through `@aws-sdk/client-s3` (never hand-signed). One call is one HTTP
 * attempt: the SDK's own retries are off (`maxAttempts: 1`) and this store does not retry either.
 * Its failures say whether sending again may help (S3BackerError.retryable: 5xx, 408, 429,
 * network errors, timeouts, a request refused for clock skew once the clock is corrected; not
 * 401/403), and the retry layer (plugins/retry) retries them with the C tool's budget, above any
 * store wrapped around this one. Every attempt is counted in the `http_*` and `curl_*` stats.
 *
 * The hot operations on objects (GET, PUT, DELETE, HEAD of a key) take the lean path
 * (LeanObjectClient): same endpoint (the SDK's endpoint rules, resolved once), same credentials
 * (the client's provider), same signer (the SDK's SignatureV4), same agents and clock offset as
 * the client, without its per-request middleware stack. The bucket check and listing use the
 * client. Endpoints the lean path cannot serve fall back to the client (s3-object-endpoint.ts).
 */
export class S3Store implements ObjectStore {
  readonly kind = 's3';
  readonly supports;
  readonly description: string;
  /** Where requests go, for messages (`http://127.0.0.1:4568/` or `https://bucket.s3...amazonaws.com/`). */
  readonly endpointDescription: string;
  readonly stats: S3Stats;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly acl: ObjectCannedACL | undefined;
  private readonly putHeaders: PutHeaders;
  private readonly logger: Logger | undefined;
  private readonly credentials: S3Credentials;
  private readonly timeoutMs: number;
  private readonly httpAgent: HttpAgent;
  private readonly httpsAgent: HttpsAgent;
  private readonly objectPath: 'lean' | 'sdk';
  /** The lean path once decided: a client, null when objects go through the SDK, undefined before the first request. */
  private lean: LeanObjectClient | null | undefined;
  private leanPending: Promise<LeanObjectClient | null> | undefined;
  private closed = false;
  /** Every request listens to it: abort() ends them all. */
  private readonly aborter = new AbortController();
  private readonly sendOptions: { abortSignal: AbortSignal };

  constructor(options: S3StoreOptions) {
    setMaxListeners(0, this.aborter.signal);
    this.sendOptions = { abortSignal: this.aborter.signal };
    this.bucket = options.bucket;
    this.acl = options.acl;
    this.putHeaders = putHeaders(options.putHeaders);
    this.logger = options.logger;
    this.credentials = options.credentials;
    this.timeoutMs = options.timeoutMs;
    this.objectPath = options.objectPath ?? 'lean';
    this.stats = options.stats ?? new S3Stats();
    this.supports = { conditionalPut: options.conditionalPut ?? true, metadata: true, conditionalGet: options.conditionalGet ?? true };

    const base = new URL(options.endpoint);
    const root = `${base.protocol}//${options.forcePathStyle ? base.host : `${options.bucket}.${base.host}`}${base.pathname.replace(/\/*$/, '/')}`;
    this.endpointDescription = root;
    this.description = `${root}${options.forcePathStyle ? `${options.bucket}/` : ''}${options.prefix ?? ''}`;

    // One pair of agents for the client and the lean path: one pool of keep-alive connections.
    const agents = createS3Agents({ maxSockets: options.maxSockets ?? 64, ...options.connection });
    this.httpAgent = agents.http;
    this.httpsAgent = agents.https;
    const config: S3ClientConfig = {
      endpoint: options.endpoint,
      region: options.region,
      forcePathStyle: options.forcePathStyle,
      // The retry layer retries (C semantics, every attempt counted in the stats).
      maxAttempts: 1,
      // s3rver stores the aws-chunked framing of a streamed upload with a trailing checksum
      // (silent corruption, seen with s3rver 3.7.1); S3 needs no checksum for PutObject. Likewise
      // do not validate response checksums the C tool never asked for.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // Per-request middleware stack resolution is most of the SDK's CPU cost (measured with --cpu-prof, docs/benchmarks.md).
      cacheMiddleware: true,
      requestHandler: new NodeHttpHandler({
        httpAgent: this.httpAgent,
        httpsAgent: this.httpsAgent,
        // `--timeout` bounds one attempt, connection included (http_io.c's CURLOPT_TIMEOUT); the idle-socket
        // limit also catches a body download that stalls after the headers arrived.
        connectionTimeout: options.timeoutMs,
        requestTimeout: options.timeoutMs,
        throwOnRequestTimeout: true,
        socketTimeout: options.timeoutMs,
      }),
    };
    if (options.credentials.kind === 'static') {
      config.credentials = { accessKeyId: options.credentials.accessKeyId, secretAccessKey: options.credentials.secretAccessKey };
    } else if (options.credentials.kind === 'anonymous') {
      // No Authorization header at all (as http_io.c without an access ID). The identity is never used
      // by the no-op signer, but without one the SDK would run the default provider chain and fail.
      config.credentials = { accessKeyId: '', secretAccessKey: '' };
      config.signer = { sign: async (request) => request };
    } else if (options.credentials.kind === 'provider') {
      config.credentials = options.credentials.provider;
    }
    this.client = new S3Client(config);
  }

  /** HEAD the bucket: the first request of a mount says whether the bucket and the credentials work. */
  async open(): Promise<void> {
    this.check();
    const answer = await this.perform('HEAD', undefined, () => this.client.send(new HeadBucketCommand({ Bucket: this.bucket }), this.sendOptions), {
      notFoundIsAnswer: true, description: `bucket "${this.bucket}"`,
    });
    if (answer === NOT_FOUND) throw this.bucketNotFound('HTTP 404');
  }

  /**
   * `ifMatch`: only that version (ec_protect.c's strict read, sent by http_io.c's
   * http_io_read_block as `If-Match`); a server holding another answers 412, which rejects with
   * PreconditionFailedError, never retried here (md5-protect decides what a stale answer means).
   * A missing object is still null: S3 answers 404 before it evaluates If-Match.
   */
  async get(key: string, options: GetOptions = {}): Promise<StoredObject | null> {
    this.check();
    const ifMatch = options.ifMatch === undefined ? undefined : ifMatchHeader(options.ifMatch);
    const conditional: Condition | undefined = options.ifMatch === undefined ? undefined : { ifMatch: options.ifMatch };
    const lean = this.lean !== undefined ? this.lean : await this.leanClient();
    if (lean !== null) {
      // The body is read inside the attempt, so a connection reset mid-body is retried too.
      const answer = await this.perform('GET', key, () => lean.get(key, { ifMatch }), { notFoundIsAnswer: true, conditional });
      if (answer === NOT_FOUND) return null;
      return { body: answer.body, ...objectInfo(answer.info, answer.body.length) };
    }
    const result = await this.perform('GET', key, async () => {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, ...(ifMatch === undefined ? {} : { IfMatch: ifMatch }) }), this.sendOptions);
      // Read the body inside the attempt, so a connection reset mid-body is retried too.
      const bytes = response.Body ? await response.Body.transformToByteArray() : new Uint8Array(0);
      return { response, body: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
    }, { notFoundIsAnswer: true, conditional });
    if (result === NOT_FOUND) return null;
    const { response, body } = result;
    return {
      body,
      etag: response.ETag ?? '',
      size: body.length,
      metadata: lowerCaseKeys(response.Metadata),
      ...(response.ContentEncoding ? { contentEncoding: response.ContentEncoding } : {}),
      ...(response.ContentType ? { contentType: response.ContentType } : {}),
    };
  }

  async head(key: string): Promise<ObjectInfo | null> {
    this.check();
    const lean = this.lean !== undefined ? this.lean : await this.leanClient();
    if (lean !== null) {
      const info = await this.perform('HEAD', key, () => lean.head(key), { notFoundIsAnswer: true });
      return info === NOT_FOUND ? null : objectInfo(info, info.contentLength ?? 0);
    }
    const response = await this.perform('HEAD', key, () => this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }), this.sendOptions), { notFoundIsAnswer: true });
    if (response === NOT_FOUND) return null;
    return {
      etag: response.ETag ?? '',
      size: response.ContentLength ?? 0,
      metadata: lowerCaseKeys(response.Metadata),
      ...(response.ContentEncoding ? { contentEncoding: response.ContentEncoding } : {}),
      ...(response.ContentType ? { contentType: response.ContentType } : {}),
    };
  }

  async put(key: string, body: Buffer, options: PutOptions = {}): Promise<{ etag: string }> {
    this.check();
    const metadata = options.metadata && Object.keys(options.metadata).length > 0 ? options.metadata : undefined;
    const ifNoneMatch = options.ifNoneMatch === '*';
    const conditional: Condition | undefined = ifNoneMatch ? { ifNoneMatch: true } : undefined;
    const lean = this.lean !== undefined ? this.lean : await this.leanClient();
    let etag: string | undefined;
    if (lean !== null) {
      const headers = {
        // What the SDK sends for a PutObject without ContentType.
        contentType: options.contentType || 'application/octet-stream',
        contentEncoding: options.contentEncoding || undefined,
        metadata,
        acl: this.acl,
        extra: this.putHeaders.wire,
        ifNoneMatch: ifNoneMatch ? '*' as const : undefined,
      };
      const response = await this.perform('PUT', key, () => lean.put(key, body, headers), { notFoundIsAnswer: false, conditional });
      if (response === NOT_FOUND) throw new Error('unreachable: PUT has no 404 answer');
      etag = response.etag;
    } else {
      const response = await this.perform('PUT', key, () => this.client.send(new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        // A Buffer with a known length: sent as is, never as an aws-chunked stream.
        Body: body,
        ContentLength: body.length,
        ...(options.contentType ? { ContentType: options.contentType } : {}),
        ...(options.contentEncoding ? { ContentEncoding: options.contentEncoding } : {}),
        ...(metadata ? { Metadata: metadata } : {}),
        ...(this.acl ? { ACL: this.acl } : {}),
        ...this.putHeaders.sdk,
        ...(ifNoneMatch ? { IfNoneMatch: '*' } : {}),
      }), this.sendOptions), { notFoundIsAnswer: false, conditional });
      if (response === NOT_FOUND) throw new Error('unreachable: PUT has no 404 answer');
      etag = response.ETag;
    }
    // The server's ETag is what we keep (never a local MD5: SSE-KMS ETags are not MD5s, archiecobbs/s3backer#135).
    if (!etag) {
      throw new S3BackerError('S3B_BACKEND_IO', `PUT ${key} at ${this.description}: the answer has no ETag header; the server is not S3-compatible enough, check --baseURL`);
    }
    return { etag };
  }

  async delete(key: string): Promise<void> {
    this.check();
    const lean = this.lean !== undefined ? this.lean : await this.leanClient();
    // 404 is success (http_io.c, archiecobbs/s3backer#35): the object is gone either way.
    if (lean !== null) await this.perform('DELETE', key, () => lean.delete(key), { notFoundIsAnswer: true });
    else await this.perform('DELETE', key, () => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }), this.sendOptions), { notFoundIsAnswer: true });
  }

  /** DeleteObjects, 1000 keys a request, each request with this store's retries and stats (bulk-delete.ts). */
  async deleteMany(keys: string[]): Promise<DeleteManyResult> {
    this.check();
    return bulkDelete({
      client: this.client,
      bucket: this.bucket,
      // Without notFoundIsAnswer, perform never answers NOT_FOUND.
      perform: <T>(what: string, run: () => Promise<T>) => this.perform('DELETE', undefined, run, { notFoundIsAnswer: false, description: what }) as Promise<T>,
    }, keys);
  }

  /**
   * ListObjects v1 with `Marker`, as the C tool lists (http_io.c, --listBlocks): s3rver answers 500 to every truncated
   * ListObjectsV2 page under Node >= 17 (s3rver 3.7.1). The next marker is the last key of
   * the page (`NextMarker` is only sent with a delimiter).
   */
  async *list(options: ListOptions = {}): AsyncIterable<string> {
    this.check();
    const prefix = options.prefix ?? '';
    let marker = options.startAfter;
    for (;;) {
      const page = await this.perform('LIST', undefined, () => this.client.send(new ListObjectsCommand({
        Bucket: this.bucket,
        ...(prefix ? { Prefix: prefix } : {}),
        ...(marker !== undefined ? { Marker: marker } : {}),
      }), this.sendOptions), { notFoundIsAnswer: false, description: `list of "${prefix}"` });
      if (page === NOT_FOUND) return;
      const keys = (page.Contents ?? []).map((object) => object.Key).filter((key): key is string => key !== undefined);
      for (const key of keys) {
        if (key.startsWith(prefix) && (options.startAfter === undefined || key > options.startAfter)) yield key;
      }
      if (!page.IsTruncated) return;
      const next = page.NextMarker ?? keys[keys.length - 1];
      if (next === undefined || (marker !== undefined && next <= marker)) {
        throw new S3BackerError('S3B_BACKEND_IO',
          `listing ${this.description}${prefix} after "${marker ?? ''}": the server said the list is truncated but gave no further key; the server's ListObjects is broken, report it to its vendor`);
      }
      this.check();
      marker = next;
    }
  }

  /** Ends every request in flight at once (their sockets are destroyed); later ones fail with `reason` too. */
  abort(reason: Error): void {
    if (!this.aborter.signal.aborted) this.aborter.abort(reason);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.client.destroy();
    // The handler destroys them only if the SDK sent something; the lean path may have been alone.
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private check(): void {
    if (this.closed) throw closedStoreError(this.kind);
    this.aborter.signal.throwIfAborted();
  }

  /** Decide the lean path once (first object request): the SDK's endpoint for the bucket, or null. */
  private async leanClient(): Promise<LeanObjectClient | null> {
    this.leanPending ??= this.createLeanClient();
    this.lean = await this.leanPending;
    return this.lean;
  }

  private async createLeanClient(): Promise<LeanObjectClient | null> {
    if (this.objectPath === 'sdk') return null;
    const config = this.client.config;
    try {
      const resolution = await resolveS3ObjectEndpoint(this.client, this.bucket);
      if ('unsupported' in resolution) {
        this.logger?.debug(`object requests go through the AWS SDK: ${resolution.unsupported}`);
        return null;
      }
      const { endpoint } = resolution;
      return new LeanObjectClient({
        endpoint,
        // Anonymous: no signature at all, as the no-op signer the client is given.
        credentials: this.credentials.kind === 'anonymous' ? undefined : config.credentials,
        clock: new ClockSkew(config, await config.disableClockSkewCorrection()),
        agent: endpoint.protocol === 'https:' ? this.httpsAgent : this.httpAgent,
        timeoutMs: this.timeoutMs,
        signal: this.aborter.signal,
      });
    } catch (error) {
      // Whatever the SDK's endpoint rules reject, the SDK path reports the same way for every request.
      this.logger?.debug(`object requests go through the AWS SDK: ${error instanceof Error ? error.message : String(error)}`);
      return null;
    }
  }

  /**
   * One HTTP attempt, timed and counted as http_io.c counts it (2xx by method, error statuses by
   * class, transport failures as curl_*); a failure becomes an S3BackerError (or
   * PreconditionFailedError) that names the method, the key and the endpoint and says whether
   * sending it again may help.
   */
  private async perform<T>(method: S3Method, key: string | undefined, run: () => Promise<T>,
    options: { notFoundIsAnswer: boolean; conditional?: Condition | undefined; description?: string }): Promise<T | typeof NOT_FOUND> {
    const what = `${method} ${key ?? options.description ?? this.bucket}`;
    const started = performance.now();
    try {
      const result = await run();
      const elapsed = performance.now() - started;
      this.stats.recordSuccess(method, key, elapsed);
      this.logger?.debug(`${what}: ok (${elapsed.toFixed(1)} ms)`);
      return result;
    } catch (error) {
      // Abandoned at unmount (abort()): the reason, not the socket error it caused, and no stats.
      if (this.aborter.signal.aborted) throw this.aborter.signal.reason;
      const failure = describeFailure(error);
      // A missing BUCKET is never "a zero block": only GET names it (HEAD answers have no body).
      if (failure.kind === 'not-found' && options.notFoundIsAnswer && failure.code !== 'NoSuchBucket') {
        if (key !== undefined) this.stats.recordNotFound(method, key);
        this.logger?.debug(`${what}: not found`);
        return NOT_FOUND;
      }
      this.stats.recordFailure(failure);
      this.logger?.debug(`${what}: ${formatFailure(failure)}`);
      throw this.translate(error, failure, what, key, options.conditional);
    }
  }

  private translate(cause: unknown, failure: S3Failure, what: string, key: string | undefined, conditional: Condition | undefined): Error {
    if (cause instanceof S3BackerError) return cause;
    const at = `${what} at ${this.description}`;
    // A request refused for clock skew goes again once the offset is corrected (as the SDK's retry strategy does).
    const retryable = isRetryableFailure(failure) || isClockSkewCorrected(cause);
    if (failure.kind === 'network' || failure.kind === 'timeout') {
      return new S3BackerError('S3B_BACKEND_UNREACHABLE',
        `${at}: cannot reach ${this.endpointDescription} (${formatFailure(failure)}); is the server running? check --baseURL (and --region), the network, or raise --timeout/--maxRetryPause`, { cause, retryable });
    }
    if (failure.kind === 'server' || failure.kind === 'throttle') {
      return new S3BackerError('S3B_BACKEND_IO',
        `${at} failed: ${formatFailure(failure)}; check the server's health, or raise --maxRetryPause to wait longer`, { cause, retryable });
    }
    if (failure.kind === 'not-found' && failure.code === 'NoSuchBucket') return this.bucketNotFound(formatFailure(failure), cause);
    if (failure.kind === 'precondition' && conditional !== undefined && key !== undefined) {
      return 'ifMatch' in conditional
        ? new PreconditionFailedError(key, `object "${key}" at ${this.description} is not the version with ETag ${conditional.ifMatch} (If-Match: ${formatFailure(failure)})`)
        : new PreconditionFailedError(key);
    }
    if (failure.kind === 'auth') {
      return new S3BackerError('S3B_BACKEND_AUTH', `${at}: the server refused ${this.whoAmI()} (${formatFailure(failure)}); check --accessId, --accessKey and --accessFile (and that the key may use bucket "${this.bucket}")`, { cause, retryable });
    }
    if (isCredentialsProviderError(cause)) {
      return new S3BackerError('S3B_BACKEND_AUTH', `${at}: no credentials found (${failure.message}); give --accessId and --accessKey, an access file (~/.s3backer_passwd or --accessFile), or configure the AWS environment`, { cause });
    }
    if (failure.kind === 'redirect') {
      return new S3BackerError('S3B_BACKEND_IO', `${at}: the server redirects (${formatFailure(failure)}); you may need --vhost and/or --region`, { cause });
    }
    return new S3BackerError('S3B_BACKEND_IO', `${at} failed: ${describeUnexpected(failure)}; check --baseURL and the server's logs`, { cause });
  }

  private bucketNotFound(reason: string, cause?: unknown): S3BackerError {
    return new S3BackerError('S3B_BUCKET_NOT_FOUND',
      `bucket "${this.bucket}" does not exist at ${this.endpointDescription} (${reason}); create it, or check the bucket name and --region`, cause === undefined ? {} : { cause });
  }

  private whoAmI(): string {
    switch (this.credentials.kind) {
      case 'static': return `access key id "${this.credentials.accessKeyId}" (secret from ${this.credentials.source})`;
      case 'anonymous': return `anonymous requests (${this.credentials.reason ?? '--accessId= is empty'})`;
      case 'provider': return `the keys of ${this.credentials.source}`;
      case 'default-chain': return 'the credentials of the AWS SDK default chain (no --accessId, no access file)';
    }
  }
}

function describeUnexpected(failure: S3Failure): string {
  return failure.kind === 'other' && failure.status === undefined ? `${formatFailure(failure)} (no HTTP error status)` : formatFailure(failure);
}

function isCredentialsProviderError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'CredentialsProviderError';
}

/** ObjectInfo from the lean path's answer headers, exactly as the SDK path builds it. */
function objectInfo(info: LeanObjectInfo, size: number): ObjectInfo {
  return {
    etag: info.etag,
    size,
    metadata: info.metadata,
    ...(info.contentEncoding ? { contentEncoding: info.contentEncoding } : {}),
    ...(info.contentType ? { contentType: info.contentType } : {}),
  };
}

/** The ObjectStore contract: lower-case metadata names (Node already lower-cases header names). */
function lowerCaseKeys(metadata: Record<string, string> | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(metadata ?? {})) result[name.toLowerCase()] = value;
  return result;
}
