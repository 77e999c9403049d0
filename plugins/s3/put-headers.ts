import type { PutObjectCommandInput, ServerSideEncryption, StorageClass } from '@aws-sdk/client-s3';

/** `--sse`, `--sse-key-id`, `--storageClass`: what every PUT asks S3 to do with the stored object. */
export interface PutHeaderOptions {
  sse?: 'AES256' | 'aws:kms' | undefined;
  /** The KMS key for `aws:kms` (the config checks require it there and refuse it elsewhere). */
  sseKeyId?: string | undefined;
  storageClass?: string | undefined;
}

/** The same request headers, for each of the store's two object paths. */
export interface PutHeaders {
  /** Lower-case header name → value, for the lean path (lean-object-client.ts). */
  readonly wire: Readonly<Record<string, string>>;
  /** The PutObjectCommand input fields the SDK serializes to exactly these headers. */
  readonly sdk: Readonly<Pick<PutObjectCommandInput, 'ServerSideEncryption' | 'SSEKMSKeyId' | 'StorageClass'>>;
}

/**
 * The headers the C tool adds to a PUT (http_io.c, http_io_write_block and http_io_set_mounted):
 * `x-amz-server-side-encryption` (+ `-aws-kms-key-id` for aws:kms) and `x-amz-storage-class`, on
 * block PUTs and on the PUT of the mounted flag alike, so on every PUT of the store. Never on GET,
 * HEAD or DELETE (the C tool's CHANGES, archiecobbs/s3backer#116: S3 answers 400 Bad Request to the
 * SSE header on a GET or HEAD of an SSE-S3 or SSE-KMS object).
 * The C tool also sends `x-amz-storage-class` with a DELETE; S3's DeleteObject has no such header
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObject.html), so we do not.
 */
export function putHeaders(options: PutHeaderOptions = {}): PutHeaders {
  const wire: Record<string, string> = {};
  const sdk: { -readonly [K in keyof PutHeaders['sdk']]: PutHeaders['sdk'][K] } = {};
  if (options.sse !== undefined) {
    wire['x-amz-server-side-encryption'] = options.sse;
    sdk.ServerSideEncryption = options.sse as ServerSideEncryption;
    if (options.sse === 'aws:kms' && options.sseKeyId !== undefined) {
      wire['x-amz-server-side-encryption-aws-kms-key-id'] = options.sseKeyId;
      sdk.SSEKMSKeyId = options.sseKeyId;
    }
  }
  if (options.storageClass !== undefined) {
    wire['x-amz-storage-class'] = options.storageClass;
    sdk.StorageClass = options.storageClass as StorageClass;
  }
  return { wire: Object.freeze(wire), sdk: Object.freeze(sdk) };
}
