/** Where progress goes: process.stderr, or a recorder in tests. */
export interface ProgressOutput {
  write(text: string): unknown;
}

export interface EraseProgressOptions {
  /** One line rewritten in place (a terminal), or plain lines every `intervalMs` (a log, a pipe). */
  terminal: boolean;
  /** Between plain lines. Default 5000. */
  intervalMs?: number;
  /** Between redraws of the terminal line. Default 200. */
  redrawMs?: number;
  now?: () => number;
}

/**
 * What `--erase` shows while it works: blocks found by the listing, deleted, failed, and the rate.
 * On a terminal one line is redrawn in place (the C tool prints a dot every 256 blocks, erase.c);
 * elsewhere a plain line every few seconds, so a log or a pipe gets a readable history instead of
 * carriage returns.
 */
export class EraseProgress {
  private foundCount = 0;
  private deletedCount = 0;
  private failedCount = 0;
  private listed = false;
  private readonly started: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  /** What the terminal shows; for plain lines, the counts last printed. */
  private shown = '';

  constructor(private readonly out: ProgressOutput, private readonly options: EraseProgressOptions) {
    this.now = options.now ?? (() => performance.now());
    this.started = this.now();
    const every = options.terminal ? options.redrawMs ?? 200 : options.intervalMs ?? 5000;
    this.timer = setInterval(() => this.show(), every);
    // Progress never keeps the process alive.
    this.timer.unref();
  }

  found(count = 1): void {
    this.foundCount += count;
  }

  /** The listing is complete: `found` is now the total. */
  listingDone(): void {
    this.listed = true;
  }

  deleted(count = 1): void {
    this.deletedCount += count;
  }

  failed(count = 1): void {
    this.failedCount += count;
  }

  get counts(): { found: number; deleted: number; failed: number } {
    return { found: this.foundCount, deleted: this.deletedCount, failed: this.failedCount };
  }

  /** Blocks deleted per second so far. */
  rate(): number {
    const seconds = (this.now() - this.started) / 1000;
    return seconds > 0 ? this.deletedCount / seconds : 0;
  }

  line(): string {
    const seconds = (this.now() - this.started) / 1000;
    const rate = seconds >= 0.5 ? `, ${Math.round(this.rate())} blocks/s` : '';
    const failed = this.failedCount > 0 ? `, ${this.failedCount} failed` : '';
    return `erase: ${this.foundCount} blocks found${this.listed ? '' : ' so far'}, ${this.deletedCount} deleted${failed}${rate}`;
  }

  /** Stop; on a terminal the line is drawn a last time and ended, so later messages start on a line of their own. */
  stop(): void {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
    if (this.options.terminal && this.shown !== '') this.out.write(`\r\x1b[K${this.line()}\n`);
  }

  private show(): void {
    if (this.options.terminal) {
      const line = this.line();
      if (line !== this.shown) this.out.write(`\r\x1b[K${line}`);
      this.shown = line;
      return;
    }
    // A plain line only when something moved: an idle wait (a retry pause) does not fill the log.
    const counts = `${this.foundCount} ${this.deletedCount} ${this.failedCount} ${this.listed}`;
    if (counts !== this.shown) this.out.write(`s3backer: ${this.line()}\n`);
    this.shown = counts;
  }
}
