import { S3BackerError } from 's3backer';
import { INJECTED_STATUSES, type InjectedStatus } from './chaos-options.js';

const ADVICE = 'the chaos plugin injects this on purpose; change its options (docs/plugins.md) to stop it';

/**
 * The `cause` of an injected error looks like what the AWS SDK or Node would have thrown for the
 * real failure (`$metadata.httpStatusCode` and the S3 code, or a socket error code), so anything
 * that classifies store failures (plugins/s3/s3-failure.ts `describeFailure`) sees a 503 as
 * throttling and an outage as a refused connection, not as "other".
 */
function sdkLike(message: string, fields: { name: string; status?: number; code?: string }): Error {
  const error = new Error(message);
  error.name = fields.name;
  return Object.assign(error, {
    ...(fields.status === undefined ? {} : { $metadata: { httpStatusCode: fields.status }, Code: fields.name }),
    ...(fields.code === undefined ? {} : { code: fields.code }),
  });
}

/**
 * An injected HTTP error: 500, 503 and 429 may pass when sent again (retryable, as the S3 store
 * treats them); 403 is the credentials' fault and is not.
 */
export function injectedHttpError(status: InjectedStatus): S3BackerError {
  const name = INJECTED_STATUSES[status];
  const what = `${status} ${name}`;
  const cause = sdkLike(`chaos: injected ${what}`, { name, status });
  return status === 403
    ? new S3BackerError('S3B_BACKEND_AUTH', `chaos: injected ${what}; ${ADVICE}`, { cause })
    : new S3BackerError('S3B_BACKEND_IO', `chaos: injected ${what}; ${ADVICE}`, { cause, retryable: true });
}

/**
 * A request the server never answered (a frozen server): a timeout, which may pass when sent
 * again. `heldMs` is the configured hang, or how long it was held when the store closed.
 */
export function injectedTimeout(heldMs: number, closed: boolean): S3BackerError {
  const what = closed
    ? `chaos: injected hang: no answer after ${Math.round(heldMs)} ms, when the store was closed`
    : `chaos: injected hang: no answer within ${Math.round(heldMs)} ms (a frozen server)`;
  return new S3BackerError('S3B_BACKEND_UNREACHABLE', `${what}; ${ADVICE}`, {
    cause: sdkLike(what, { name: 'TimeoutError', code: 'ETIMEDOUT' }), retryable: true,
  });
}

/** A request during an outage window: the server refuses connections until the window ends. */
export function injectedOutage(remainingMs: number): S3BackerError {
  const what = `chaos: injected outage: connection refused (the outage ends in ${Math.ceil(remainingMs)} ms)`;
  return new S3BackerError('S3B_BACKEND_UNREACHABLE', `${what}; ${ADVICE}`, {
    cause: sdkLike(what, { name: 'Error', code: 'ECONNREFUSED' }), retryable: true,
  });
}
