// Which blocks a write step touched, seen from the server: the bucket's block objects (key, ETag,
// Last-Modified) listed before and after the step; a block is touched when its object appeared,
// disappeared or changed. Exact for any workload (ext4 metadata and journal included), at the
// price of a listing outside the measured step. Listed with the SDK (path-style, the target's
// keys), so it works on every server target; the mount's own counters are not disturbed.
import { DeleteObjectCommand, ListObjectsCommand, S3Client } from '@aws-sdk/client-s3';
import type { ServerTarget } from './server-target.js';

/** `prefix` + 8 lowercase hex digits: a block object (docs/format.md); the mounted flag and key check are not blocks. */
const BLOCK_KEY = /^(?:.*\/)?[0-9a-f]{8}$/;

export type BucketSnapshot = Map<string, string>;

export function targetS3Client(target: Pick<ServerTarget, 'endpoint' | 'accessId' | 'accessKey'>): S3Client {
  return new S3Client({
    endpoint: target.endpoint, region: 'us-east-1', forcePathStyle: true, maxAttempts: 3,
    credentials: { accessKeyId: target.accessId, secretAccessKey: target.accessKey },
    // Plain bodies: radosgw refuses aws-chunked uploads with checksum trailers.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/**
 * Every block object of the bucket: key → `ETag@LastModified` (a rewrite with equal bytes still
 * changes the time). ListObjects (v1) with the last key as the marker: s3rver 3.7.1 answers
 * ListObjectsV2 with a 500 once a bucket holds more than a page of objects.
 */
export async function snapshotBucket(client: S3Client, bucket: string): Promise<BucketSnapshot> {
  const snapshot: BucketSnapshot = new Map();
  let marker: string | undefined;
  for (;;) {
    const page = await client.send(new ListObjectsCommand({ Bucket: bucket, Marker: marker }));
    const contents = page.Contents ?? [];
    for (const object of contents) {
      if (object.Key && BLOCK_KEY.test(object.Key)) snapshot.set(object.Key, `${object.ETag}@${object.LastModified?.getTime()}`);
    }
    if (!page.IsTruncated || contents.length === 0) return snapshot;
    marker = contents[contents.length - 1]!.Key;
  }
}

/** Blocks whose object was created, replaced or deleted between the two snapshots. */
export function changedBlocks(before: BucketSnapshot, after: BucketSnapshot): number {
  let changed = 0;
  for (const [key, version] of after) if (before.get(key) !== version) changed++;
  for (const key of before.keys()) if (!after.has(key)) changed++;
  return changed;
}

/**
 * Delete every object of the bucket, 32 at a time: frees a server's storage between block sizes.
 * One DeleteObject per key rather than DeleteObjects, whose required body checksum older
 * servers (radosgw 16) do not all accept in the SDK's current form.
 */
export async function emptyBucket(client: S3Client, bucket: string): Promise<void> {
  for (;;) {
    const page = await client.send(new ListObjectsCommand({ Bucket: bucket }));
    const keys = (page.Contents ?? []).flatMap((object) => (object.Key ? [object.Key] : []));
    if (keys.length === 0) return;
    let next = 0;
    await Promise.all(Array.from({ length: 32 }, async () => {
      while (next < keys.length) await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: keys[next++]! }));
    }));
  }
}
