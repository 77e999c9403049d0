import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { S3Client, GetObjectCommand, type S3ClientConfig } from '@aws-sdk/client-s3';
import { HttpResponse } from '@smithy/core/protocols';
import { encodeS3Key } from '../../plugins/s3/encode-s3-key.js';
import { objectPath, resolveS3ObjectEndpoint } from '../../plugins/s3/s3-object-endpoint.js';

const KEYS = [
  'vol/0000002a', 'a b+c', 'ünï/çødé', "x!'()*~._-", 'a//b/./../c', '/lead', 'trail/', 'q?x#y%z&=;:,@$', 'emoji 😀', 'tab\tand\nnewline', '[brackets]{braces}^|`"<>\\',
];

test('encodeS3Key: S3 URI encoding, everything but unreserved characters and "/"', () => {
  assert.equal(encodeS3Key('vol/0000002a'), 'vol/0000002a');
  assert.equal(encodeS3Key('a b+c'), 'a%20b%2Bc');
  assert.equal(encodeS3Key('ünï/çødé'), '%C3%BCn%C3%AF/%C3%A7%C3%B8d%C3%A9');
  assert.equal(encodeS3Key("x!'()*~._-"), 'x%21%27%28%29%2A~._-');
  assert.equal(encodeS3Key('q?x#y%z&=;:,@$'), 'q%3Fx%23y%25z%26%3D%3B%3A%2C%40%24');
  assert.equal(encodeS3Key('emoji 😀'), 'emoji%20%F0%9F%98%80');
  assert.equal(encodeS3Key('a//b/./../c'), 'a//b/./../c', 'no path normalisation: S3 keys are literal');
  assert.equal(encodeS3Key(''), '');
  assert.throws(() => encodeS3Key('lone \ud800 surrogate'), URIError);
});

/** What S3Client itself would send for a GetObject (captured before the network: no server needed). */
async function sdkRequest(config: S3ClientConfig, bucket: string, key: string): Promise<{ protocol: string; port: number | undefined; host: string; path: string }> {
  let captured: { protocol: string; port?: number; path: string; headers: Record<string, string> } | undefined;
  const client = new S3Client({
    ...config,
    maxAttempts: 1,
    credentials: { accessKeyId: 'AK', secretAccessKey: 'SK' },
    requestHandler: {
      handle: async (request: typeof captured) => {
        captured = request;
        return { response: new HttpResponse({ statusCode: 200, headers: { etag: '"e"' }, body: Readable.from([]) }) };
      },
    } as unknown as S3ClientConfig['requestHandler'],
  });
  try {
    await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  } finally {
    client.destroy();
  }
  assert.ok(captured);
  return { protocol: captured.protocol, port: captured.port, host: captured.headers.host!, path: captured.path };
}

const CONFIGS: Array<{ endpoint: string; forcePathStyle: boolean; bucket: string; region?: string }> = [
  { endpoint: 'http://127.0.0.1:4568/', forcePathStyle: true, bucket: 'bkt' },
  { endpoint: 'http://127.0.0.1:4568', forcePathStyle: true, bucket: 'bkt' },
  { endpoint: 'http://127.0.0.1:4568/base/path/', forcePathStyle: true, bucket: 'bkt' },
  // --vhost on an IP address: the SDK falls back to path style.
  { endpoint: 'http://127.0.0.1:4568/', forcePathStyle: false, bucket: 'bkt' },
  // --vhost on a host name: the bucket in the host (and the SDK's double slash under a base path).
  { endpoint: 'http://localhost:4568/', forcePathStyle: false, bucket: 'bkt' },
  { endpoint: 'http://localhost:4568/base/', forcePathStyle: false, bucket: 'bkt' },
  { endpoint: 'https://s3.eu-west-1.amazonaws.com/', forcePathStyle: false, bucket: 'bkt', region: 'eu-west-1' },
  // Buckets that cannot be host names: path style, as the SDK decides.
  { endpoint: 'https://s3.eu-west-1.amazonaws.com/', forcePathStyle: false, bucket: 'my.bucket', region: 'eu-west-1' },
  { endpoint: 'https://s3.eu-west-1.amazonaws.com/', forcePathStyle: false, bucket: 'MyBucket', region: 'eu-west-1' },
  { endpoint: 'http://minio.local:9000/', forcePathStyle: false, bucket: 'my.bucket' },
  { endpoint: 'https://s3.amazonaws.com/', forcePathStyle: true, bucket: 'bkt' },
  { endpoint: 'https://s3.amazonaws.com:443/', forcePathStyle: true, bucket: 'bkt' },
  { endpoint: 'https://s3.amazonaws.com:8443/', forcePathStyle: false, bucket: 'bkt' },
  { endpoint: 'http://[::1]:4568/', forcePathStyle: true, bucket: 'bkt' },
];

test('resolveS3ObjectEndpoint + objectPath: the URL and Host header S3Client sends, for every URL style', async () => {
  for (const { endpoint, forcePathStyle, bucket, region = 'us-east-1' } of CONFIGS) {
    const client = new S3Client({ endpoint, forcePathStyle, region, credentials: { accessKeyId: 'AK', secretAccessKey: 'SK' } });
    const resolution = await resolveS3ObjectEndpoint(client, bucket);
    client.destroy();
    assert.ok('endpoint' in resolution, `${endpoint} ${bucket}: ${JSON.stringify(resolution)}`);
    const lean = resolution.endpoint;
    assert.equal(lean.signingName, 's3');
    assert.equal(lean.signingRegion, region);
    for (const key of KEYS) {
      const sdk = await sdkRequest({ endpoint, forcePathStyle, region }, bucket, key);
      const what = `${endpoint} pathStyle=${forcePathStyle} bucket=${bucket} key=${JSON.stringify(key)}`;
      assert.equal(lean.protocol, sdk.protocol, what);
      assert.equal(lean.port, sdk.port, what);
      assert.equal(lean.host, sdk.host, what);
      assert.equal(objectPath(lean, key), sdk.path, what);
    }
  }
});

test('resolveS3ObjectEndpoint: vhost on a host name puts the bucket in the Host header; IPv6 loses its brackets for node', async () => {
  const vhost = new S3Client({ endpoint: 'http://localhost:4568/', forcePathStyle: false, region: 'us-east-1', credentials: { accessKeyId: 'AK', secretAccessKey: 'SK' } });
  const resolution = await resolveS3ObjectEndpoint(vhost, 'bkt');
  vhost.destroy();
  assert.deepEqual(resolution, { endpoint: { protocol: 'http:', hostname: 'bkt.localhost', port: 4568, host: 'bkt.localhost:4568', pathPrefix: '', signingRegion: 'us-east-1', signingName: 's3' } });
  const ipv6 = new S3Client({ endpoint: 'http://[::1]:4568/', forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'AK', secretAccessKey: 'SK' } });
  const v6 = await resolveS3ObjectEndpoint(ipv6, 'bkt');
  ipv6.destroy();
  assert.ok('endpoint' in v6);
  assert.equal(v6.endpoint.hostname, '::1');
  assert.equal(v6.endpoint.host, '[::1]:4568');
  assert.equal(v6.endpoint.pathPrefix, '/bkt');
});

test('resolveS3ObjectEndpoint: S3 Express and multi-region access points stay with the SDK', async () => {
  const express = new S3Client({ region: 'us-east-1', endpoint: 'https://s3.us-east-1.amazonaws.com/', forcePathStyle: false, credentials: { accessKeyId: 'AK', secretAccessKey: 'SK' } });
  assert.deepEqual(await resolveS3ObjectEndpoint(express, 'mybucket--use1-az4--x-s3'), { unsupported: 'the endpoint needs the sigv4-s3express auth scheme' });
  express.destroy();
  const mrap = new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'AK', secretAccessKey: 'SK' } });
  assert.deepEqual(await resolveS3ObjectEndpoint(mrap, 'arn:aws:s3::123456789012:accesspoint/mfzwi23gnjvgw.mrap'), { unsupported: 'the endpoint needs the sigv4a auth scheme' });
  mrap.destroy();
});
