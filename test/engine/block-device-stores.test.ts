import { test, before, after } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBlockDeviceConformance } from '../conformance/block-device-suite.js';
import { DirStore } from '../../plugins/dir/index.js';
import { blockCachePlugin } from '../../plugins/block-cache/index.js';
import { S3Store } from '../../plugins/s3/index.js';
import { BLOCK_CONTENT_TYPE } from '../../src/engine/object-pipeline.js';
import { startS3rver, type S3rverServer } from '../helpers/s3rver-server.js';
import { testConfig } from '../helpers/test-config.js';

// The disk contract again, over the stores that keep data outside the process.
let server: S3rverServer;
let scratch: string;
let volumes = 0;
before(async () => {
  server = await startS3rver();
  scratch = await mkdtemp(join(tmpdir(), 's3backer-bd-'));
});
after(async () => {
  await server.stop();
  await rm(scratch, { recursive: true, force: true });
});

const dirVolume = async () => {
  const directory = await mkdtemp(join(scratch, 'dir-'));
  return () => new DirStore({ directory, defaultContentType: BLOCK_CONTENT_TYPE });
};
const s3Volume = async () => {
  const bucket = `volume-${++volumes}`;
  await server.createBucket(bucket);
  return () => new S3Store({
    endpoint: server.endpoint, bucket, region: 'us-east-1', forcePathStyle: true,
    credentials: { kind: 'static', accessKeyId: server.accessId, secretAccessKey: server.accessKey, source: 'test' },
    timeoutMs: 10_000, acl: 'private',
  });
};

runBlockDeviceConformance({ test, name: 'dir', config: (o) => testConfig(o), createVolume: dirVolume });
runBlockDeviceConformance({ test, name: 's3 (s3rver)', config: (o) => testConfig(o), createVolume: s3Volume });

// And with the block cache on, smaller than the suite's disk, so it evicts and writes back under pressure.
const cache = () => [blockCachePlugin({ size: 8, threads: 4, writeDelay: 5 })];
runBlockDeviceConformance({ test, name: 'dir + block cache', config: (o) => testConfig(o), createVolume: dirVolume, plugins: cache });
runBlockDeviceConformance({ test, name: 's3 (s3rver) + block cache', config: (o) => testConfig(o), createVolume: s3Volume, plugins: cache });
