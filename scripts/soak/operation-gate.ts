/**
 * Lets the workers' operations run concurrently, and a checkpoint stop them all: `quiet(fn)` waits
 * until no operation is in flight, runs `fn` with every worker held at `enter()`, then lets them go.
 */
export class OperationGate {
  private active = 0;
  private closed: Promise<void> | undefined;
  private drained: (() => void) | undefined;

  async enter(): Promise<void> {
    while (this.closed) await this.closed;
    this.active++;
  }

  leave(): void {
    if (--this.active === 0) this.drained?.();
  }

  /** Whether a checkpoint holds the workers now. */
  get quieting(): boolean {
    return this.closed !== undefined;
  }

  async quiet<T>(fn: () => Promise<T>): Promise<T> {
    while (this.closed) await this.closed;
    let open!: () => void;
    this.closed = new Promise<void>((resolve) => { open = resolve; });
    try {
      if (this.active > 0) await new Promise<void>((resolve) => { this.drained = resolve; });
      this.drained = undefined;
      return await fn();
    } finally {
      this.closed = undefined;
      open();
    }
  }
}
