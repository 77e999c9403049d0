import { S3Client } from '@aws-sdk/client-s3';
import type { S3rverServer } from './s3rver-server.js';

/** An SDK client for looking at an s3rver bucket directly, not through a mount (path-style, its keys). */
export function s3rverClient(server: S3rverServer): S3Client {
  return new S3Client({
    endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true,
    credentials: { accessKeyId: server.accessId, secretAccessKey: server.accessKey },
  });
}
