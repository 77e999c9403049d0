import { CodecWorkerPool } from './codec-worker-pool.js';

/** A hold on the process's shared codec worker pool; `release()` once (at the plugin's shutdown). */
export interface CodecWorkerPoolLease {
  readonly pool: CodecWorkerPool;
  release(): Promise<void>;
}

let shared: { readonly pool: CodecWorkerPool; users: number } | undefined;

/**
 * The process's one codec worker pool, made on first use and closed (threads terminated) when
 * its last user releases it. One pool for every codec and every mounted engine in the process:
 * the threads are sized to the machine's cores, and separate pools per plugin would each claim
 * all of them (the encrypt plugin and the zstd plugin on one volume would start twice as many
 * threads as there are cores).
 */
export function acquireSharedCodecWorkerPool(): CodecWorkerPoolLease {
  if (!shared || shared.pool.isClosed) shared = { pool: new CodecWorkerPool(), users: 0 };
  const entry = shared;
  entry.users++;
  let released = false;
  return {
    pool: entry.pool,
    async release() {
      if (released) return;
      released = true;
      if (--entry.users > 0) return;
      if (shared === entry) shared = undefined;
      await entry.pool.close();
    },
  };
}
