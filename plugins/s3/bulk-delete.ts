import { DeleteObjectsCommand, type DeleteObjectsCommandOutput, type S3Client } from '@aws-sdk/client-s3';
import type { DeleteManyResult } from 's3backer';

/** Most keys one DeleteObjects request may name (S3's limit; the C tool's `http_io_bulk_zero` uses it too). */
export const DELETE_OBJECTS_MAX_KEYS = 1000;

/** What a bulk delete needs from its store: the client, and the store's way of sending one request. */
export interface BulkDeleteTransport {
  readonly client: S3Client;
  readonly bucket: string;
  /**
   * Send one request (one HTTP attempt) with the store's stats and error translation; `what` names
   * it in messages. The retry layer (plugins/retry) retries `deleteMany` as a whole.
   */
  perform<T>(what: string, run: () => Promise<T>): Promise<T>;
}

/**
 * Delete `keys` with S3 DeleteObjects (`POST /bucket?delete`), at most 1000 keys a request, one
 * request after another (a caller wanting more in flight calls this several times at once). Quiet
 * mode: S3 then answers with the failed keys only. A key S3 reports as missing is deleted all
 * the same (404 on DELETE is success, http_io.c). A request that fails as a whole rejects; keys
 * of the earlier requests are deleted by then.
 */
export async function bulkDelete(transport: BulkDeleteTransport, keys: readonly string[]): Promise<DeleteManyResult> {
  const failed: DeleteManyResult['failed'] = [];
  for (let start = 0; start < keys.length; start += DELETE_OBJECTS_MAX_KEYS) {
    const chunk = keys.slice(start, start + DELETE_OBJECTS_MAX_KEYS);
    const what = chunk.length === 1 ? chunk[0]! : `${chunk.length} objects (${chunk[0]} … ${chunk[chunk.length - 1]})`;
    const output = await transport.perform(what, () => transport.client.send(new DeleteObjectsCommand({
      Bucket: transport.bucket,
      Delete: { Objects: chunk.map((Key) => ({ Key })), Quiet: true },
    })));
    failed.push(...failedKeys(chunk, output));
  }
  return { failed };
}

/** The keys a DeleteObjects answer reports as not deleted, with S3's code and message. */
export function failedKeys(sent: readonly string[], output: Pick<DeleteObjectsCommandOutput, 'Errors'>): DeleteManyResult['failed'] {
  const asked = new Set(sent);
  const failed: DeleteManyResult['failed'] = [];
  for (const error of output.Errors ?? []) {
    if (error.Code === 'NoSuchKey') continue;
    // An error for a key we never sent would be a server bug; it is not ours to report as a block.
    if (error.Key === undefined || !asked.has(error.Key)) continue;
    failed.push({ key: error.Key, error: [error.Code, error.Message].filter(Boolean).join(': ') || 'the server gave no reason' });
  }
  return failed;
}
