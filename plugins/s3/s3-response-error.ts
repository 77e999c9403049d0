import type { IncomingHttpHeaders } from 'node:http';

/**
 * An S3 error answer (any status outside 2xx) of the lean block path, shaped like the SDK's
 * `S3ServiceException` so that `describeFailure` (s3-failure.ts), the stats and the store's
 * messages treat both paths alike: `name` and `Code` are the S3 error code from the XML body,
 * `message` its `<Message>`, `$metadata.httpStatusCode` the status. Without a code (HEAD answers
 * have no body; proxies answer HTML) the names are the SDK's: `NotFound` for a 404, else
 * `Unknown`, with the message `UnknownError`.
 */
export class S3ResponseError extends Error {
  /** The S3 error code, when the body had one (as on the SDK's exceptions). */
  readonly Code: string | undefined;
  /** `<ServerTime>` of a RequestTimeTooSkewed answer: the clock to correct to. */
  readonly ServerTime: string | undefined;
  readonly $metadata: { httpStatusCode: number; requestId?: string; extendedRequestId?: string; clockSkewCorrected?: boolean };
  /** The answer's headers (Date, for clock skew). */
  readonly headers: IncomingHttpHeaders;

  constructor(status: number, headers: IncomingHttpHeaders, body: string) {
    const fields = parseS3ErrorXml(body);
    super(fields.Message ?? 'UnknownError');
    this.name = fields.Code ?? (status === 404 ? 'NotFound' : 'Unknown');
    this.Code = fields.Code;
    this.ServerTime = fields.ServerTime;
    this.headers = headers;
    const requestId = headerValue(headers['x-amz-request-id']) ?? fields.RequestId;
    const extendedRequestId = headerValue(headers['x-amz-id-2']) ?? fields.HostId;
    this.$metadata = {
      httpStatusCode: status,
      ...(requestId === undefined ? {} : { requestId }),
      ...(extendedRequestId === undefined ? {} : { extendedRequestId }),
    };
  }
}

const FIELDS = ['Code', 'Message', 'ServerTime', 'RequestId', 'HostId'] as const;
type ErrorField = typeof FIELDS[number];

/**
 * The fields of S3's `<Error><Code>…</Code><Message>…</Message>…</Error>` body the store uses;
 * nothing (no throw) for an empty or non-XML body. Only leaf elements matter, so a tag match is
 * enough; entities are decoded as an XML parser would.
 */
export function parseS3ErrorXml(body: string): Partial<Record<ErrorField, string>> {
  const fields: Partial<Record<ErrorField, string>> = {};
  if (!body.includes('<Error')) return fields;
  for (const field of FIELDS) {
    const match = new RegExp(`<${field}>([^<]*)</${field}>`).exec(body);
    if (match && match[1] !== '') fields[field] = decodeXmlText(match[1]!);
  }
  return fields;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeXmlText(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);/g, (whole, entity: string) => {
    if (entity.startsWith('#x')) return safeCodePoint(parseInt(entity.slice(2), 16), whole);
    if (entity.startsWith('#')) return safeCodePoint(parseInt(entity.slice(1), 10), whole);
    return ENTITIES[entity] ?? whole;
  });
}

function safeCodePoint(codePoint: number, fallback: string): string {
  return codePoint >= 0 && codePoint <= 0x10ffff ? String.fromCodePoint(codePoint) : fallback;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
