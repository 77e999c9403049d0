/**
 * How much of one connection's work may be outstanding at once: a number of requests and a number
 * of payload bytes (write data held until stored, read data held until sent). The request loop
 * waits here before it reads on, so a client that sends faster than the store answers is held
 * back by TCP instead of growing our memory. One request is always admitted when nothing else is
 * outstanding, whatever its size (it was checked against the maximum request size before).
 */
export class InFlightLimit {
  private requests = 0;
  private bytes = 0;
  private waiter: { bytes: number; resolve(): void } | undefined;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly maxRequests: number, private readonly maxBytes: number) {}

  get outstanding(): number {
    return this.requests;
  }

  /** Resolves once a request holding `bytes` fits. Only the request loop waits, so one waiter at most. */
  admit(bytes: number): Promise<void> {
    if (this.fits(bytes)) {
      this.take(bytes);
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      this.waiter = { bytes, resolve: () => { this.take(bytes); resolve(); } };
    });
  }

  /** A request admitted with `bytes` has finished (replied, or its reply was abandoned). */
  release(bytes: number): void {
    this.requests--;
    this.bytes -= bytes;
    const waiter = this.waiter;
    if (waiter && this.fits(waiter.bytes)) {
      this.waiter = undefined;
      waiter.resolve();
    }
    if (this.requests === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /** Resolves when nothing is outstanding. */
  idle(): Promise<void> {
    if (this.requests === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private fits(bytes: number): boolean {
    return this.requests === 0 || (this.requests < this.maxRequests && this.bytes + bytes <= this.maxBytes);
  }

  private take(bytes: number): void {
    this.requests++;
    this.bytes += bytes;
  }
}
