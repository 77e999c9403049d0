import { constants } from 'node:os';
import { ERROR_CODES } from './codes.js';
import { S3BackerError } from './s3backer-error.js';

/**
 * The errno a frontend answers the kernel with, from the one table in `codes.ts`; anything that
 * is not an S3BackerError is an I/O error. Returned as a positive number.
 */
export function errnoOf(error: unknown): number {
  const name = error instanceof S3BackerError ? ERROR_CODES[error.code].errno : 'EIO';
  return constants.errno[name];
}
