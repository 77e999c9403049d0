import { createInterface } from 'node:readline/promises';
import type { ResolvedConfig } from '../../config/resolved-config.js';
import { detectGeometry } from '../../engine/detect-geometry.js';
import { createMaintenanceEngine } from '../run-engine.js';
import { deleteKeyCheck } from '../../../plugins/encrypt-hmac/index.js';

/** Deletes in flight at once (the C tool's erase uses 25 threads). */
const ERASE_PARALLELISM = 25;

/**
 * `--erase`: delete every block object and the mounted flag (C erase.c). No mounted-flag
 * check, as in the C tool; asks for confirmation unless `--force`.
 */
export async function eraseCommand(config: ResolvedConfig): Promise<number> {
  const engine = createMaintenanceEngine(config);
  const store = await engine.openStore();
  try {
    const geometry = await detectGeometry(store, config, engine.log);
    if (!config.force) {
      const prompt = createInterface({ input: process.stdin, output: process.stderr });
      const answer = await prompt.question(`s3backer: erase all blocks of ${store.description}? [y/N] `).catch(() => '');
      prompt.close();
      if (!/^(y|yes)$/i.test(answer.trim())) {
        process.stderr.write('s3backer: not erased\n');
        return 1;
      }
    }
    const keys: string[] = [];
    for await (const key of store.list({ prefix: geometry.prefix })) if (geometry.parseKey(key) !== undefined) keys.push(key);
    let next = 0;
    await Promise.all(Array.from({ length: ERASE_PARALLELISM }, async () => {
      while (next < keys.length) await store.delete(keys[next++]!);
    }));
    // An encrypted volume's key check goes too: a new volume here may use another password.
    await deleteKeyCheck(store, geometry.prefix);
    await store.delete(geometry.mountTokenKey);
    engine.log.info(`erased ${keys.length} non-zero blocks`);
    process.stderr.write(`s3backer: erased ${keys.length} non-zero blocks\n`);
  } finally {
    await store.close();
  }
  return 0;
}
