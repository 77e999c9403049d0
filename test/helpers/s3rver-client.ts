import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { S3rverServer } from './s3rver-server.js';
import { fixtureToStored, type FixtureCase } from './c-fixtures.js';

/** An SDK client for looking at an s3rver bucket directly, not through a mount (path-style, its keys). */
export function s3rverClient(server: S3rverServer): S3Client {
  return new S3Client({
    endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true,
    credentials: { accessKeyId: server.accessId, secretAccessKey: server.accessKey },
  });
}

/** Stores the objects the C tool wrote for `fixture` in `bucket` (default the fixture's), headers and metadata included. */
export async function putFixtureObjects(client: S3Client, fixture: FixtureCase, bucket = fixture.bucket): Promise<void> {
  for (const object of fixture.objects) {
    const stored = fixtureToStored(object);
    await client.send(new PutObjectCommand({
      Bucket: bucket, Key: object.key, Body: stored.body, ContentType: stored.contentType,
      ...(stored.contentEncoding === undefined ? {} : { ContentEncoding: stored.contentEncoding }), Metadata: stored.metadata,
    }));
  }
}
