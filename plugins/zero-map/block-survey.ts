import { isS3BackerError, type BlockGeometry, type Logger, type ObjectStore } from 's3backer';
import { ZeroMap } from './zero-map.js';
import { surveyRanges, surveyName, type SurveyRange } from './survey-ranges.js';

export type SurveyState = 'running' | 'completed' | 'failed' | 'stopped';

export interface BlockSurveyOptions {
  /** Listed only; the survey reads and writes nothing. */
  readonly store: Pick<ObjectStore, 'list'>;
  readonly geometry: Pick<BlockGeometry, 'prefix' | 'hashPrefix' | 'numBlocks' | 'parseKey'>;
  /** The map a completed survey fills. */
  readonly zeros: ZeroMap;
  /** Listings in flight at once (`--listBlocksThreads`): the key space is split into this many slices. */
  readonly threads: number;
  readonly log: Logger;
  /** ms between the debug progress lines. */
  readonly progressIntervalMs: number;
  /**
   * Blocks that may hold data the store does not list yet (a block cache's dirty blocks, through
   * the `listBlocks` hook), asked once when the survey starts; every later write goes through the
   * zero map, which reports it with `nonZero()`.
   */
  readonly pending?: () => Promise<Iterable<number>>;
}

/** Settles a worker's wait at once when the survey stops or fails. */
const STOPPED = Symbol('stopped');

/**
 * The `--listBlocks` survey (zero_cache.c `zero_cache_survey_main`, http_io.c
 * `http_io_survey_non_zero`): lists the volume's objects, one listing per slice of the key space,
 * while I/O goes on. A separate map starts with every block "may still be zero"; every listed block
 * and every block normal I/O may have made non-zero (`nonZero()`, called before the write is
 * sent) leaves it; only when every slice was listed without error is that map OR-ed into the zero
 * map, in one synchronous step. A failed or stopped survey marks nothing, so it can never make a
 * block wrongly zero: at worst the volume behaves as without `--listBlocks`.
 */
export class BlockSurvey {
  private candidates: ZeroMap | undefined;
  private currentState: SurveyState = 'running';
  private readonly ranges: SurveyRange[];
  /** How far each slice's listing got, as a fraction of the slice. */
  private readonly progress: number[];
  private listed = 0;
  private reported = 0;
  private marked = 0;
  private readonly startedAt = Date.now();
  private finishedAt: number | undefined;
  private wakeStopped!: (value: typeof STOPPED) => void;
  private readonly stopped = new Promise<typeof STOPPED>((resolve) => { this.wakeStopped = resolve; });
  private readonly done: Promise<void>;
  private failure: unknown;

  /** Start a survey; it runs in the background until it completes, fails or is stopped. */
  static start(options: BlockSurveyOptions): BlockSurvey {
    return new BlockSurvey(options);
  }

  private constructor(private readonly options: BlockSurveyOptions) {
    this.ranges = surveyRanges(options.geometry, options.threads);
    this.progress = this.ranges.map(() => 0);
    this.candidates = new ZeroMap(options.geometry.numBlocks, true);
    options.log.info(`starting non-zero block survey (${this.ranges.length} listings in flight)`);
    this.done = this.run();
  }

  get state(): SurveyState {
    return this.currentState;
  }

  /** Objects listed that are blocks of this volume. */
  get objects(): number {
    return this.listed;
  }

  /** Distinct blocks reported as possibly non-zero by the listing and by pending blocks. */
  get nonZeroBlocks(): number {
    return this.reported;
  }

  /** Blocks the completed survey marked known zero (that were not already). */
  get markedZero(): number {
    return this.marked;
  }

  /** ms since the start, until the end. */
  get elapsedMs(): number {
    return (this.finishedAt ?? Date.now()) - this.startedAt;
  }

  /** Fraction of the key space listed, 0 to 1. */
  get fraction(): number {
    if (this.currentState === 'completed') return 1;
    let sum = 0;
    for (let i = 0; i < this.ranges.length; i++) sum += this.progress[i]! * (this.ranges[i]!.last - this.ranges[i]!.first + 1);
    const total = this.ranges.reduce((n, range) => n + range.last - range.first + 1, 0);
    return total === 0 ? 1 : sum / total;
  }

  /** Settles when the survey has ended, however it ended (never rejects). */
  get finished(): Promise<void> {
    return this.done;
  }

  /**
   * Normal I/O saw the block possibly non-zero (a read of data, or any write about to be sent):
   * the survey must not mark it zero (zero_cache.c `zero_cache_update_block`). A no-op once the
   * survey ended.
   */
  nonZero(block: number): void {
    this.candidates?.set(block, false);
  }

  /** Stop the survey: listings in flight are abandoned and nothing is marked. Resolves once it has ended. */
  async stop(): Promise<void> {
    if (this.currentState === 'running') {
      this.currentState = 'stopped';
      this.wakeStopped(STOPPED);
      this.options.log.info(`non-zero block survey canceled after ${this.listed} objects (${(this.fraction * 100).toFixed(1)}% of key space); no block was marked zero`);
    }
    await this.done;
  }

  private async run(): Promise<void> {
    const { log } = this.options;
    const timer = setInterval(() => {
      log.debug(`listBlocks: ${this.listed} objects, ${(this.fraction * 100).toFixed(1)}% of key space`);
    }, this.options.progressIntervalMs);
    timer.unref();
    try {
      if (this.options.pending) {
        const pending = await Promise.race([this.options.pending(), this.stopped]);
        if (pending === STOPPED) return;
        for (const block of pending) this.report(block);
      }
      await Promise.all(this.ranges.map((range, index) => this.listRange(range, index).catch((error: unknown) => this.fail(error))));
      this.finish();
    } catch (error) {
      this.fail(error);
    } finally {
      clearInterval(timer);
      this.finishedAt ??= Date.now();
      this.candidates = undefined;
    }
  }

  /** List one slice: every block key from its start up to its end, stopping early when the survey ends. */
  private async listRange(range: SurveyRange, index: number): Promise<void> {
    const { store, geometry } = this.options;
    const iterator = store.list({ prefix: range.prefix, startAfter: range.startAfter })[Symbol.asyncIterator]();
    const span = range.last - range.first + 1;
    let exhausted = false;
    try {
      for (;;) {
        // A listing request in flight cannot be cancelled through the store contract: stop waiting
        // for it instead, so shutdown is not held up by a slow or frozen server.
        const next = await Promise.race([iterator.next(), this.stopped]);
        if (next === STOPPED || this.currentState !== 'running') return;
        if (next.done) {
          exhausted = true;
          break;
        }
        const key = next.value;
        if (key >= range.stopAt) break;
        const name = surveyName(geometry.prefix, key);
        if (name !== undefined) this.progress[index] = Math.min(1, (name - range.first + 1) / span);
        const block = geometry.parseKey(key);
        if (block === undefined) continue;
        this.listed++;
        this.report(block);
      }
      this.progress[index] = 1;
    } finally {
      // Ends the store's paging; after an abandoned request it runs once that request settles.
      if (!exhausted) void Promise.resolve(iterator.return?.()).catch(() => {});
    }
  }

  private report(block: number): void {
    const candidates = this.candidates;
    if (!candidates || block >= candidates.numBlocks || !candidates.isZero(block)) return;
    candidates.set(block, false);
    this.reported++;
  }

  private finish(): void {
    if (this.currentState !== 'running') return;
    // Synchronous from here to the end: no write can start between the last check and the OR.
    this.marked = this.options.zeros.addZeros(this.candidates!);
    this.currentState = 'completed';
    this.finishedAt = Date.now();
    this.options.log.info(`non-zero block survey completed (${this.reported} non-zero blocks reported, ${this.listed} objects listed, ` +
      `${this.marked} blocks now known zero, ${(this.elapsedMs / 1000).toFixed(3)} s)`);
  }

  private fail(error: unknown): void {
    if (this.currentState !== 'running') return;
    this.failure = error;
    this.wakeStopped(STOPPED);
    this.finishedAt = Date.now();
    if (isS3BackerError(error, 'S3B_STORE_CLOSED')) {
      // The store was closed under us: the mount is going away (a mount that failed after `ready`).
      this.currentState = 'stopped';
      this.options.log.debug('non-zero block survey canceled: the store was closed');
      return;
    }
    this.currentState = 'failed';
    const reason = error instanceof Error ? error.message : String(error);
    this.options.log.warn(`non-zero block survey failed after ${this.listed} objects (${reason}); no block was marked zero, ` +
      'so reads and trims of never-written blocks still go to the store; remount to survey again');
  }

  /** The error the survey failed with, if it failed. */
  get error(): unknown {
    return this.failure;
  }
}
