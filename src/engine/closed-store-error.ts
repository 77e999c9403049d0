import { S3BackerError } from '../errors/s3backer-error.js';

/** What every store throws once closed (conformance: "operations after close() fail with a typed error"). */
export function closedStoreError(kind: string): S3BackerError {
  return new S3BackerError('S3B_STORE_CLOSED', `the ${kind} store was used after close(); this is a bug in the caller, please report it`);
}
