import { S3BackerError, Stage, type S3BackerPlugin } from 's3backer';
import { ZeroMap } from './zero-map.js';
import { BlockSurvey } from './block-survey.js';

export const ZERO_MAP_PLUGIN_NAME = 'zero-map';

export interface ZeroMapPluginOptions {
  /** `--listBlocks`: survey the volume's objects in the background from mount on, filling the map. */
  listBlocks?: boolean;
  /** `--listBlocksThreads`: listings in flight at once during the survey. Default 16, as in the C tool. */
  listBlocksThreads?: number;
  /** ms between the survey's debug progress lines. Default 10 s. */
  progressInterval?: number;
}

/**
 * Answers reads of known-zero blocks and skips zero writes onto them with no request to the store
 * (the C tool's upper zero cache, stats `zero_block_cache_*`). Always on, as in the C tool. With
 * `listBlocks`, runs the C tool's non-zero block survey (zero_cache.c): once it completes, a block
 * never written reads as zeros and trims without a request.
 */
export function zeroMapPlugin(options: ZeroMapPluginOptions = {}): S3BackerPlugin {
  const threads = options.listBlocksThreads ?? 16;
  if (!Number.isSafeInteger(threads) || threads < 1) {
    throw new S3BackerError('S3B_CONFIG_INVALID', `zero map option listBlocksThreads must be an integer of at least 1, not ${String(threads)} (--listBlocksThreads); fix the value`);
  }
  const progressInterval = options.progressInterval ?? 10_000;
  if (!(progressInterval > 0)) {
    throw new S3BackerError('S3B_CONFIG_INVALID', `zero map option progressInterval must be a positive number of ms, not ${String(progressInterval)}; fix the value`);
  }
  return {
    name: ZERO_MAP_PLUGIN_NAME,
    apply(engine) {
      let map: ZeroMap | undefined;
      let survey: BlockSurvey | undefined;
      let zeroBlock = Buffer.alloc(0);
      let readHits = 0;
      let writeHits = 0;
      const tap = { name: ZERO_MAP_PLUGIN_NAME, stage: Stage.ZERO_MAP };
      const log = engine.logger(ZERO_MAP_PLUGIN_NAME);

      engine.hooks.mount.tapPromise(tap, async ({ geometry }) => {
        map = new ZeroMap(geometry.numBlocks);
        zeroBlock = Buffer.alloc(geometry.blockSize);
      });
      if (options.listBlocks) {
        // At `ready`, not `mount`: the survey runs in the background and never delays the mount
        // (the C tool starts it from create_threads, after the FUSE init).
        engine.hooks.ready.tapPromise(tap, async ({ store, geometry }) => {
          survey = BlockSurvey.start({
            store, geometry, zeros: map!, threads, log, progressIntervalMs: progressInterval,
            pending: () => engine.unstoredBlocks(),
          });
        });
        engine.hooks.shutdown.tapPromise(tap, async () => survey?.stop());
      }
      engine.hooks.readBlock.tapPromise(tap, async ({ block }) => {
        if (!map?.isZero(block)) return undefined;
        readHits++;
        return Buffer.alloc(zeroBlock.length);
      });
      engine.hooks.blockRead.tapPromise(tap, async ({ block }, data) => {
        const zero = data.equals(zeroBlock);
        if (!zero) survey?.nonZero(block);
        map?.set(block, zero);
      });
      // A whole or partial write: zeros onto a known-zero block change nothing and need no
      // request; anything else makes the block unknown, before the bytes are applied (if the
      // write then fails, the block is unknown, not wrongly zero). A running survey is told before
      // the write is sent, zeros included: had it completed while a DELETE was in flight that then
      // failed, it would have marked zero a block the store still holds.
      const beforeWrite = async ({ block, isZero }: { block: number; isZero: boolean }): Promise<true | undefined> => {
        if (!map) return undefined;
        if (isZero && map.isZero(block)) {
          writeHits++;
          return true;
        }
        survey?.nonZero(block);
        map.set(block, false);
        return undefined;
      };
      engine.hooks.writeBlock.tapPromise(tap, beforeWrite);
      engine.hooks.writeBlockPart.tapPromise(tap, beforeWrite);
      engine.hooks.blockWritten.tapPromise(tap, async ({ block, isZero }) => {
        if (!isZero) survey?.nonZero(block);
        map?.set(block, isZero);
      });
      engine.stats({
        lines: () => [
          ['zero_block_cache_size', `${map?.size ?? 0} blocks`],
          ['zero_block_cache_read_hits', String(readHits)],
          ['zero_block_cache_write_hits', String(writeHits)],
          ...(options.listBlocks ? surveyLines(survey) : []),
        ],
        // The survey's lines describe the survey, not counters: like the map's size, they are not reset.
        reset: () => { readHits = 0; writeHits = 0; },
      });
    },
  };
}

/** The survey's state in the stats file: `running 42.0%`, `completed`, `failed`, `stopped`. */
function surveyLines(survey: BlockSurvey | undefined): Array<[string, string]> {
  if (!survey) return [['zero_block_survey', 'not started'], ['zero_block_survey_objects', '0'], ['zero_block_survey_time', '0.000 sec']];
  return [
    ['zero_block_survey', survey.state === 'running' ? `running ${(survey.fraction * 100).toFixed(1)}%` : survey.state],
    ['zero_block_survey_objects', String(survey.objects)],
    ['zero_block_survey_time', `${(survey.elapsedMs / 1000).toFixed(3)} sec`],
  ];
}

export { ZeroMap } from './zero-map.js';
export { BlockSurvey, type BlockSurveyOptions, type SurveyState } from './block-survey.js';
export { surveyRanges, type SurveyRange } from './survey-ranges.js';
