import type { ResolvedConfig } from '../../config/resolved-config.js';
import { MOUNT_TOKEN_NAME } from '../../engine/block-geometry.js';
import { createMaintenanceEngine } from '../run-engine.js';

/** `--reset-mounted-flag`: delete the mounted-flag object (C reset.c), then exit. */
export async function resetMountedFlagCommand(config: ResolvedConfig): Promise<number> {
  const engine = createMaintenanceEngine(config);
  const store = await engine.openStore();
  try {
    engine.log.info(`resetting mount token for ${store.description}`);
    await store.delete(config.prefix + MOUNT_TOKEN_NAME);
    engine.log.info('done');
  } finally {
    await store.close();
  }
  return 0;
}
