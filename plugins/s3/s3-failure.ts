/**
 * What an `@aws-sdk/client-s3` rejection means, reduced to what the retry loop, the stats and the
 * error messages need. Always classified by HTTP status first: HEAD responses have no body, so the
 * SDK can only name them 'NotFound', 'Forbidden' or the bare status code.
 */
export type FailureKind =
  /** No HTTP answer: refused, reset, DNS, unreachable (curl's "couldn't connect/resolve", retried). */
  | 'network'
  /** `--timeout` elapsed for one attempt (curl_timeouts in the C tool; retried). */
  | 'timeout'
  /** 408, 429, or a 400 RequestTimeout: the server asks us to slow down (retried). */
  | 'throttle'
  /** 5xx (retried). */
  | 'server'
  /** 401 / 403: retrying cannot fix credentials, so fail fast (the C tool retries; we do not). */
  | 'auth'
  | 'not-found'
  /** 412: `If-None-Match: *` found the object. */
  | 'precondition'
  /** 301/302/307/308: usually the wrong --region or path/vhost style. */
  | 'redirect'
  /** Any other HTTP error (400, 409, other 3xx/4xx). */
  | 'client'
  /** Not an HTTP or network failure (a bug, an abort, a malformed answer). */
  | 'other';

export interface S3Failure {
  kind: FailureKind;
  /** HTTP status, when the server answered. */
  status?: number;
  /** S3 error code (`NoSuchBucket`, `InvalidAccessKeyId`) or Node error code (`ECONNREFUSED`). */
  code?: string;
  message: string;
}

/** Node / undici socket error codes that mean "the server was not reached or the connection broke". */
const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH',
  'EHOSTDOWN', 'ENETUNREACH', 'ENETDOWN', 'EADDRNOTAVAIL', 'ERR_SOCKET_CONNECTION_TIMEOUT',
]);

const UNNAMED = new Set(['Error', 'Unknown', 'UnknownError']);

const RETRYABLE: ReadonlySet<FailureKind> = new Set(['network', 'timeout', 'throttle', 'server']);

interface SdkLikeError {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  Code?: unknown;
  errors?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

export function describeFailure(error: unknown): S3Failure {
  const e = (typeof error === 'object' && error !== null ? error : {}) as SdkLikeError;
  const message = typeof e.message === 'string' && e.message !== '' ? e.message : String(error);
  const status = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;
  // Node 20 tries every address of a host name (autoSelectFamily) and reports an AggregateError
  // whose members carry the socket code.
  const inner = Array.isArray(e.errors) ? (e.errors[0] as SdkLikeError | undefined) : undefined;
  const nodeCode = typeof e.code === 'string' ? e.code : typeof inner?.code === 'string' ? inner.code : undefined;
  // Without an error body (HEAD) the SDK names the error 'Unknown' or 'NotFound': no S3 code then.
  const name = typeof e.Code === 'string' ? e.Code : typeof e.name === 'string' ? e.name : undefined;
  const s3Code = name === undefined || UNNAMED.has(name) ? undefined : name;

  if (status === undefined || status < 300) {
    // A 2xx with an unparsable body also lands here ("other").
    if (e.name === 'TimeoutError' || nodeCode === 'ETIMEDOUT') return { kind: 'timeout', code: nodeCode ?? 'ETIMEDOUT', message };
    if (nodeCode !== undefined && NETWORK_CODES.has(nodeCode)) return { kind: 'network', code: nodeCode, message };
    return { kind: 'other', ...(status === undefined ? {} : { status }), ...(s3Code === undefined ? {} : { code: s3Code }), message };
  }
  const base = { status, ...(s3Code === undefined ? {} : { code: s3Code }), message };
  if (status === 401 || status === 403) return { kind: 'auth', ...base };
  if (status === 404) return { kind: 'not-found', ...base };
  if (status === 412) return { kind: 'precondition', ...base };
  if (status === 408 || status === 429) return { kind: 'throttle', ...base };
  // S3 answers a too-slow upload with 400 RequestTimeout; the SDK's own retry strategy treats it as transient.
  if (status === 400 && s3Code === 'RequestTimeout') return { kind: 'throttle', ...base };
  if (status >= 500) return { kind: 'server', ...base };
  if (status === 301 || status === 302 || status === 307 || status === 308) return { kind: 'redirect', ...base };
  return { kind: 'client', ...base };
}

/** The C tool's http_io_perform_io semantics minus 401/403: retry 5xx, throttling and network failures only. */
export function isRetryableFailure(failure: S3Failure): boolean {
  return RETRYABLE.has(failure.kind);
}

/** `HTTP 503 SlowDown: Please reduce your request rate` / `ECONNREFUSED: connect ECONNREFUSED ...`. */
export function formatFailure(failure: S3Failure): string {
  const head = failure.status !== undefined ? `HTTP ${failure.status}${failure.code && failure.code !== String(failure.status) ? ` ${failure.code}` : ''}` : failure.code;
  if (!head) return failure.message;
  return failure.message && failure.message !== failure.code && failure.message !== 'UnknownError' ? `${head}: ${failure.message}` : head;
}
