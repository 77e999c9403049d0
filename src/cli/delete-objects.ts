import type { ObjectStore } from '../engine/object-store.js';
import { isS3BackerError } from '../errors/s3backer-error.js';
import { ConcurrencyLimit } from '../engine/concurrency-limit.js';

/** Keys one `deleteMany` call is given: S3 DeleteObjects' limit, so one call is one request. */
export const BULK_DELETE_KEYS = 1000;
/** Bulk requests in flight at once. */
export const BULK_DELETE_PARALLELISM = 4;
/** Single deletes in flight at once (the C tool's erase runs 25 deleter threads, erase.c). */
export const SINGLE_DELETE_PARALLELISM = 25;

export interface DeleteObjectsOptions {
  /** Use the store's `deleteMany` when it has one (default true); false deletes one key at a time. */
  bulk?: boolean;
  /** Called as the listing yields keys, and as they are deleted or fail. */
  onFound?: (count: number) => void;
  onDeleted?: (count: number) => void;
  onFailed?: (count: number) => void;
  /** The listing is complete: every key has been found. */
  onListed?: () => void;
  /** Why bulk deletes were given up for single ones (a server without DeleteObjects). */
  onFallback?: (reason: string) => void;
}

export interface DeleteObjectsOutcome {
  found: number;
  deleted: number;
  /** Keys that could not be deleted, with the last reason; in key order (deletes run concurrently, so the order they failed in is not repeatable). */
  failed: Array<{ key: string; error: string }>;
  /** `deleteMany` calls made (each one DeleteObjects request for S3). */
  bulkRequests: number;
  singleRequests: number;
  /** An error that stopped everything (the store is unreachable, the bucket is gone). */
  stopped: unknown;
}

/**
 * Failures that are the store's, not one object's: going on would only fail every remaining key
 * after its own retry budget, so they stop the run.
 */
function storeWide(error: unknown): boolean {
  return isS3BackerError(error) && ['S3B_BACKEND_UNREACHABLE', 'S3B_BUCKET_NOT_FOUND', 'S3B_STORE_CLOSED'].includes(error.code);
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Delete every key `keys` yields: in `deleteMany` batches of 1000 where the store has it (up to 4
 * requests at once), one `delete` per key otherwise (25 at once). The listing runs ahead by one
 * window of keys (4 batches), which are deleted before the next listing request: never a listing
 * request while deletes run, because some servers' listings break when objects vanish under them
 * (s3rver 3.7.1 answers 500), and a listing that resumes after its last key has the deleted keys
 * behind it anyway. A key a bulk request reports as failed gets one more try on its own (S3
 * reports transient per-key errors such as InternalError). A bulk request that fails as a whole
 * makes the rest go one key at a time: the server may not implement DeleteObjects at all, and
 * single DELETEs are what every S3-compatible server has. Failures are collected, not thrown;
 * only a store-wide failure stops the run (`stopped`).
 */
export async function deleteObjects(store: ObjectStore, keys: AsyncIterable<string>, options: DeleteObjectsOptions = {}): Promise<DeleteObjectsOutcome> {
  const outcome: DeleteObjectsOutcome = { found: 0, deleted: 0, failed: [], bulkRequests: 0, singleRequests: 0, stopped: undefined };
  let bulk = options.bulk !== false && typeof store.deleteMany === 'function';
  const singles = new ConcurrencyLimit(SINGLE_DELETE_PARALLELISM);

  const deleted = (count: number) => {
    outcome.deleted += count;
    if (count > 0) options.onDeleted?.(count);
  };
  const failed = (key: string, error: unknown) => {
    outcome.failed.push({ key, error: typeof error === 'string' ? error : reasonOf(error) });
    options.onFailed?.(1);
  };
  const stop = (error: unknown) => {
    outcome.stopped ??= error;
  };

  const deleteOne = (key: string) => singles.run(async () => {
    if (outcome.stopped !== undefined) return;
    outcome.singleRequests++;
    try {
      await store.delete(key);
      deleted(1);
    } catch (error) {
      if (storeWide(error)) stop(error);
      else failed(key, error);
    }
  });

  const deleteBatch = async (batch: string[]): Promise<void> => {
    if (outcome.stopped !== undefined) return;
    if (bulk) {
      outcome.bulkRequests++;
      try {
        const result = await store.deleteMany!(batch);
        deleted(batch.length - result.failed.length);
        // One more try each, on its own; what fails again is reported with that reason.
        await Promise.all(result.failed.map(async ({ key, error }) => {
          if (outcome.stopped !== undefined) return failed(key, error);
          outcome.singleRequests++;
          try {
            await singles.run(() => store.delete(key));
            deleted(1);
          } catch (retryError) {
            if (storeWide(retryError)) stop(retryError);
            failed(key, retryError);
          }
        }));
        return;
      } catch (error) {
        // Not storeWide(): a bulk request can time out on a slow server where single deletes get through.
        if (isS3BackerError(error) && ['S3B_BUCKET_NOT_FOUND', 'S3B_STORE_CLOSED'].includes(error.code)) return stop(error);
        if (bulk) options.onFallback?.(reasonOf(error));
        bulk = false;
      }
    }
    await Promise.all(batch.map(deleteOne));
  };

  const deleteWindow = async (window: string[]) => {
    const batches: string[][] = [];
    for (let start = 0; start < window.length; start += BULK_DELETE_KEYS) batches.push(window.slice(start, start + BULK_DELETE_KEYS));
    await Promise.all(batches.map(deleteBatch));
  };

  const windowSize = BULK_DELETE_KEYS * (bulk ? BULK_DELETE_PARALLELISM : 1);
  try {
    let window: string[] = [];
    for await (const key of keys) {
      outcome.found++;
      options.onFound?.(1);
      window.push(key);
      if (window.length === windowSize) {
        await deleteWindow(window);
        window = [];
        if (outcome.stopped !== undefined) return inKeyOrder(outcome);
      }
    }
    await deleteWindow(window);
    if (outcome.stopped === undefined) options.onListed?.();
  } catch (error) {
    // A listing that fails after the store's retries is the store's failure: stop as for one.
    stop(error);
  }
  return inKeyOrder(outcome);
}

function inKeyOrder(outcome: DeleteObjectsOutcome): DeleteObjectsOutcome {
  outcome.failed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return outcome;
}
