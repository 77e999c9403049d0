import { ERROR_CODES, type ErrnoName } from '../../errors/codes.js';
import { S3BackerError } from '../../errors/s3backer-error.js';
import { NBD_EINVAL, NBD_EIO, NBD_ENOSPC, NBD_EPERM, NBD_ESHUTDOWN } from './nbd-protocol.js';

/**
 * The protocol allows only a few error values (proto.md, "Error values"), not the host's errno:
 * each errno of the error table (src/errors/codes.ts) maps to the closest one.
 */
const NBD_ERROR_OF_ERRNO: Record<ErrnoName, number> = {
  EINVAL: NBD_EINVAL,
  EIO: NBD_EIO,
  ENOSPC: NBD_ENOSPC,
  // proto.md: "SHOULD return NBD_EPERM if it receives a write or trim request on a read-only export".
  EROFS: NBD_EPERM,
  EACCES: NBD_EPERM,
  EBUSY: NBD_EIO,
  ENOENT: NBD_EIO,
};

/** The NBD error value a failed device operation is answered with. */
export function nbdErrorOf(error: unknown): number {
  if (!(error instanceof S3BackerError)) return NBD_EIO;
  // The engine refuses requests once it is shutting down: the protocol's word for that tells the
  // client to disconnect rather than retry.
  if (error.code === 'S3B_ENGINE_STATE') return NBD_ESHUTDOWN;
  return NBD_ERROR_OF_ERRNO[ERROR_CODES[error.code].errno];
}
