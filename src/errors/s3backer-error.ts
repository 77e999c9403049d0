import { ERROR_CODES, type ErrorCode } from './codes.js';
import { formatBlockNumber } from './block-number.js';

export interface S3BackerErrorDetails {
  /** Block the error concerns, printed as the C tool does (`%08x`). */
  block?: number;
  /** Plugin (tap name) that raised the error, when raised inside a hook tap. */
  plugin?: string;
  /** Hook the tap was running on. */
  hook?: string;
  /** The Content-Encoding token (codec) the error concerns. */
  token?: string;
  /**
   * A store failure that may pass if the same request is sent again (a 5xx, throttling, a reset
   * connection, a timeout): what the retry layer retries. Absent means not retryable.
   */
  retryable?: boolean;
  cause?: unknown;
}

/**
 * Every error s3backer raises on purpose. `code` is stable (see `codes.ts` and `docs/errors.md`);
 * the message says what happened and ends with what the user can do.
 */
export class S3BackerError extends Error {
  readonly code: ErrorCode;
  readonly block: number | undefined;
  readonly plugin: string | undefined;
  readonly hook: string | undefined;
  readonly token: string | undefined;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, details: S3BackerErrorDetails = {}) {
    const where = details.block === undefined ? '' : `block ${formatBlockNumber(details.block)}: `;
    super(where + message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'S3BackerError';
    this.code = code;
    this.block = details.block;
    this.plugin = details.plugin;
    this.hook = details.hook;
    this.token = details.token;
    this.retryable = details.retryable === true;
  }

  /** The errno a frontend answers the kernel with. */
  get errno(): string {
    return ERROR_CODES[this.code].errno;
  }
}

export function isS3BackerError(error: unknown, code?: ErrorCode): error is S3BackerError {
  return error instanceof S3BackerError && (code === undefined || error.code === code);
}

/**
 * Wrap a foreign error exactly once, at a hook boundary (webpack's makeWebpackError): errors that
 * are already S3BackerErrors pass through untouched so the original code and block survive.
 */
export function wrapPluginError(error: unknown, plugin: string, hook: string, block?: number): S3BackerError {
  if (error instanceof S3BackerError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new S3BackerError('S3B_PLUGIN_ERROR', `plugin "${plugin}" failed in hook "${hook}": ${reason}; report this to the plugin's author`, {
    block, plugin, hook, cause: error,
  });
}
