/** Statuses with which S3 asks a client to send fewer requests: 503 SlowDown, 429 Too Many Requests. */
const THROTTLING_STATUSES: ReadonlySet<number> = new Set([429, 503]);

/** How deep to look through `cause` links (a store error wraps the SDK's, the object tier wraps that). */
const MAX_DEPTH = 4;

interface StatusBearing {
  $metadata?: { httpStatusCode?: unknown };
  cause?: unknown;
}

/**
 * Whether a store failure is the server asking us to slow down. Stores say it the way the AWS SDK
 * does, in the error or one of its causes: `$metadata.httpStatusCode` 503 or 429 (the s3 store
 * keeps the SDK's or its lean client's error as the cause; the chaos store builds its injected
 * 503 SlowDown and 429 that way too). A store-agnostic layer needs nothing more.
 */
export function isThrottling(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < MAX_DEPTH && typeof current === 'object' && current !== null; depth++) {
    const status = (current as StatusBearing).$metadata?.httpStatusCode;
    if (typeof status === 'number') return THROTTLING_STATUSES.has(status);
    current = (current as StatusBearing).cause;
  }
  return false;
}
