import type { Engine } from '../../src/engine/engine.js';
import { ObjectPipeline } from '../../src/engine/object-pipeline.js';
import type { ObjectStore } from '../../src/engine/object-store.js';
import type { RangeOracle } from './range-oracle.js';
import type { Mismatch } from './mismatch.js';

/**
 * Compare every block the store itself holds with the oracle: read below the cache, the retry
 * layer and the chaos store, decoded by the engine's own codecs. Only meaningful right after a
 * flush succeeded with no operation in flight: then every acknowledged write must be in the store
 * (what fsync promises), not merely in the cache.
 */
export async function checkStore(engine: Engine, raw: ObjectStore, oracle: RangeOracle, context: string): Promise<Mismatch[]> {
  const objects = new ObjectPipeline(raw, engine.hooks, engine.geometry, { defaultContentEncoding: engine.config.defaultContentEncoding });
  const found: Mismatch[] = [];
  for (let block = 0; block < oracle.numBlocks; block++) {
    const mismatch = oracle.checkBlock('checkpoint', block, await objects.read(block), context);
    if (mismatch) found.push(mismatch);
  }
  return found;
}
