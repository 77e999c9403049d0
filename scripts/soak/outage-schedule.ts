import type { ChaosPlugin } from '../../plugins/chaos/index.js';

/**
 * Outages on a clock: every `everyMs`, every request through the chaos store is refused for
 * `durationMs` (the chaos plugin's `outage()`), as a server that restarts now and then. The chaos
 * store's own `outages` option counts from the mount; this repeats for as long as the soak runs.
 */
export class OutageSchedule {
  started = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly chaos: ChaosPlugin, private readonly everyMs: number, private readonly durationMs: number) {}

  start(): void {
    if (this.everyMs <= 0 || this.durationMs <= 0) return;
    this.timer = setInterval(() => {
      this.started++;
      this.chaos.outage(this.durationMs);
    }, this.everyMs);
    this.timer.unref();
  }

  /** No more outages, and the one under way ends now (so the final flush can get through). */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.chaos.outage(0);
  }
}
