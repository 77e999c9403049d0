/**
 * Named tap stages, with gaps so third-party taps fit between built-ins (webpack's
 * PROCESS_ASSETS_STAGE_* constants). Lower runs first; ties keep registration (config) order.
 *
 * Block tier (readBlock/writeBlock): zero map first, then a cache. MD5 protection wraps the store
 * instead (STORE_CONSISTENCY), so it also guards the cache's own uploads and misses.
 * Object tier (encode): compress before encrypt; decode runs in the reverse order the object records.
 * Mount: VERIFY first (the encryption plugin derives its keys and checks the password there, before
 * a cache's mount tap uploads recovered blocks).
 */
export const Stage = Object.freeze({
  /** Mount taps that must run before any tap can do block I/O: checking the volume's password. */
  VERIFY: -400,
  ZERO_MAP: -300,
  BLOCK_CACHE: -200,
  MD5_PROTECT: -100,
  DEFAULT: 0,
  COMPRESS: 100,
  ENCRYPT: 200,
  /** wrapStore: faults nearest the real store (the chaos store), then retries, then limits, then observers. */
  STORE_FAULTS: 100,
  /** Above the faults, so injected failures are retried like real ones; below the limits, so a request pays for bandwidth once. */
  STORE_RETRY: 150,
  STORE_LIMITS: 200,
  STORE_OBSERVERS: 300,
  /** wrapStore, outermost: MD5 protection sees every block request of every layer above (ec_protect.c sits below the block cache). */
  STORE_CONSISTENCY: 400,
} as const);
export type StageName = keyof typeof Stage;
