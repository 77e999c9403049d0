import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getEndpointFromInstructions } from '@smithy/core/endpoints';
import { encodeS3Key } from './encode-s3-key.js';

/**
 * Where the object requests of one bucket go, and how they are signed, as `S3Client` would send
 * them: one resolution per store, not one per request (the SDK evaluates its endpoint rules per
 * request; they depend only on the bucket and the client's configuration, never on the key).
 */
export interface S3ObjectEndpoint {
  protocol: 'http:' | 'https:';
  /** For node's `request()`: an IPv6 literal without its brackets. */
  hostname: string;
  port: number | undefined;
  /** The Host header the SDK sends: host name, plus `:port` unless it is the scheme's default. */
  host: string;
  /**
   * What comes before `/<encoded key>`: the endpoint URL's path (`/bucket` path-style, `/base/bkt`
   * under a base path), or '' when that path is `/` (virtual-hosted at the root). The SDK's
   * serializer concatenates the same way, including its double slash under a vhost base path.
   */
  pathPrefix: string;
  signingRegion: string;
  signingName: string;
}

export type S3ObjectEndpointResolution = { endpoint: S3ObjectEndpoint } | { unsupported: string };

/**
 * Ask the SDK's own endpoint rules (the ones `GetObjectCommand` runs, with the client's region,
 * `--baseURL`, path or virtual-hosted style) where a key of `bucket` lives. Path-style vs vhost,
 * an IP-address or dotted bucket that falls back to path style, base paths: all decided by the
 * SDK, so the lean path's URLs are the SDK's. Endpoints the lean path cannot serve (S3 Express
 * session auth, SigV4a multi-region access points, endpoints with extra headers or query
 * parameters) come back as `unsupported`, and the store keeps using the SDK for them.
 */
export async function resolveS3ObjectEndpoint(client: S3Client, bucket: string): Promise<S3ObjectEndpointResolution> {
  const resolved = await getEndpointFromInstructions({ Bucket: bucket, Key: 'k' }, GetObjectCommand, client.config);
  const url = resolved.url;
  const scheme = resolved.properties?.authSchemes?.[0];
  if (scheme !== undefined && scheme.name !== 'sigv4') return { unsupported: `the endpoint needs the ${scheme.name} auth scheme` };
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { unsupported: `the endpoint's protocol is ${url.protocol}` };
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') return { unsupported: 'the endpoint URL has a query, fragment or user info' };
  if (resolved.headers !== undefined && Object.keys(resolved.headers).length > 0) return { unsupported: 'the endpoint adds request headers' };
  const hostname = url.hostname.startsWith('[') && url.hostname.endsWith(']') ? url.hostname.slice(1, -1) : url.hostname;
  return {
    endpoint: {
      protocol: url.protocol,
      hostname,
      port: url.port === '' ? undefined : Number(url.port),
      host: url.host,
      pathPrefix: url.pathname === '/' ? '' : url.pathname,
      signingRegion: scheme?.signingRegion ?? await client.config.region(),
      signingName: scheme?.signingName ?? 's3',
    },
  };
}

/** The request path of `key` at `endpoint` (what goes on the wire and into the signature). */
export function objectPath(endpoint: S3ObjectEndpoint, key: string): string {
  return `${endpoint.pathPrefix}/${encodeS3Key(key)}`;
}
