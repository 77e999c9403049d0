import type { S3BackerPlugin } from '../../src/engine/plugin.js';
import { Stage } from '../../src/engine/stages.js';
import { ZeroMap } from './zero-map.js';

export const ZERO_MAP_PLUGIN_NAME = 'zero-map';

/**
 * Answers reads of known-zero blocks and skips zero writes onto them with no request to the store
 * (the C tool's upper zero cache, stats `zero_block_cache_*`). Always on, as in the C tool.
 */
export function zeroMapPlugin(): S3BackerPlugin {
  return {
    name: ZERO_MAP_PLUGIN_NAME,
    apply(engine) {
      let map: ZeroMap | undefined;
      let zeroBlock = Buffer.alloc(0);
      let readHits = 0;
      let writeHits = 0;
      const tap = { name: ZERO_MAP_PLUGIN_NAME, stage: Stage.ZERO_MAP };

      engine.hooks.mount.tapPromise(tap, async ({ geometry }) => {
        map = new ZeroMap(geometry.numBlocks);
        zeroBlock = Buffer.alloc(geometry.blockSize);
      });
      engine.hooks.readBlock.tapPromise(tap, async ({ block }) => {
        if (!map?.isZero(block)) return undefined;
        readHits++;
        return Buffer.alloc(zeroBlock.length);
      });
      engine.hooks.blockRead.tapPromise(tap, async ({ block }, data) => {
        map?.set(block, data.equals(zeroBlock));
      });
      // A whole or partial write: zeros onto a known-zero block change nothing and need no
      // request; anything else makes the block unknown, before the bytes are applied (if the
      // write then fails, the block is unknown, not wrongly zero).
      const beforeWrite = async ({ block, isZero }: { block: number; isZero: boolean }): Promise<true | undefined> => {
        if (!map) return undefined;
        if (isZero && map.isZero(block)) {
          writeHits++;
          return true;
        }
        map.set(block, false);
        return undefined;
      };
      engine.hooks.writeBlock.tapPromise(tap, beforeWrite);
      engine.hooks.writeBlockPart.tapPromise(tap, beforeWrite);
      engine.hooks.blockWritten.tapPromise(tap, async ({ block, isZero }) => {
        map?.set(block, isZero);
      });
      engine.stats({
        lines: () => [
          ['zero_block_cache_size', `${map?.size ?? 0} blocks`],
          ['zero_block_cache_read_hits', String(readHits)],
          ['zero_block_cache_write_hits', String(writeHits)],
        ],
        reset: () => { readHits = 0; writeHits = 0; },
      });
    },
  };
}
