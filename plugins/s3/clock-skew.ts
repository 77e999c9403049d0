/** Where the clock offset lives: the S3Client's resolved config, so the SDK and the lean path share one. */
export interface ClockOffsetHolder {
  systemClockOffset: number;
}

/** The SDK flags a correction of at least this much (@aws-sdk/core `AwsSdkSigV4Signer.errorHandler`). */
const SKEW_THRESHOLD_MS = 240_000;
/** An answer that took longer than this says nothing reliable about the server's clock. */
const MAX_SAMPLE_AGE_MS = 900_000;

/**
 * Clock-skew correction as the AWS SDK does it (@aws-sdk/core httpAuthSchemes, mirrored because
 * it is not exported): requests are signed at `now + systemClockOffset`; every answer's `Date`
 * header (or an error's `<ServerTime>`) re-estimates the offset, unless the answer came from a
 * cache (`Age`) or took over 15 minutes. When an ERROR answer moves the offset by a large amount
 * (≥ 4 minutes), the error is marked `$metadata.clockSkewCorrected`, and the store retries it:
 * the next attempt is signed with the server's time (RequestTimeTooSkewed on a machine with a
 * wrong clock costs one failed attempt, not the mount).
 */
export class ClockSkew {
  /**
   * @param holder the S3Client's config (its `systemClockOffset` is read and written in place).
   * @param disabled `AWS_DISABLE_CLOCK_SKEW_CORRECTION` / `disable_clock_skew_correction`, as the SDK resolved it.
   */
  constructor(private readonly holder: ClockOffsetHolder, private readonly disabled = false) {}

  /** The current offset: the signing time of a request about to be sent is `Date.now()` + this. */
  get offset(): number {
    return this.disabled ? 0 : this.holder.systemClockOffset;
  }

  /** When to sign a request sent now. */
  signingDate(): Date {
    return new Date(Date.now() + this.offset);
  }

  /** A 2xx answer: adopt the server's clock (SDK `successHandler`). */
  sample(serverTime: string | undefined, requestSentAt: number, age: string | undefined): void {
    if (this.disabled || serverTime === undefined) return;
    this.holder.systemClockOffset = updatedOffset(serverTime, this.holder.systemClockOffset, requestSentAt, age);
  }

  /**
   * An error answer: adopt the server's clock, and say whether that was a correction large enough
   * to retry the request at once (SDK `errorHandler` → `$metadata.clockSkewCorrected`).
   */
  correct(serverTime: string | undefined, requestSentAt: number, offsetWhenSigned: number, age: string | undefined): boolean {
    if (this.disabled || serverTime === undefined) return false;
    const offset = updatedOffset(serverTime, this.holder.systemClockOffset, requestSentAt, age);
    this.holder.systemClockOffset = offset;
    // The SDK flags any offset that differs from the one signed with (`newOffset !== preRequestOffset`);
    // the Date header has whole seconds, so a repeat of the same skew differs by milliseconds and would
    // be flagged again on every error. Ours requires the signing clock to have moved by the threshold,
    // so a retry is only spent when the next signature really carries a different time.
    return Math.abs(offset) >= SKEW_THRESHOLD_MS && Math.abs(offset - offsetWhenSigned) >= SKEW_THRESHOLD_MS;
  }
}

function updatedOffset(serverTime: string, current: number, requestSentAt: number, age: string | undefined): number {
  if (age !== undefined) return current;
  const server = Date.parse(serverTime);
  if (Number.isNaN(server)) return current;
  const now = Date.now();
  if (now - requestSentAt > MAX_SAMPLE_AGE_MS) return current;
  return server - now;
}

/** An SDK or lean-path error whose clock correction makes an immediate retry worthwhile. */
export function isClockSkewCorrected(error: unknown): boolean {
  return typeof error === 'object' && error !== null
    && (error as { $metadata?: { clockSkewCorrected?: unknown } }).$metadata?.clockSkewCorrected === true;
}
