// s3rver as the benchmark's server: the test helper's child process on 127.0.0.1, its objects on
// tmpfs so the server's disk is not what is measured.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startS3rver, s3rverFlags } from '../../test/helpers/s3rver-server.js';
import { childPids } from './proc-stats.js';
import type { ServerTarget } from './server-target.js';

export async function startS3rverTarget(): Promise<ServerTarget> {
  // s3rver keeps objects in files under os.tmpdir(): point that at tmpfs while it starts.
  const savedTmp = process.env.TMPDIR;
  process.env.TMPDIR = '/dev/shm';
  let server;
  try {
    server = await startS3rver();
  } finally {
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
  }
  const pid = childPids('s3rver-main')[0];
  if (pid === undefined) {
    await server.stop();
    throw new Error('cannot find the s3rver process among our children');
  }
  return {
    name: 's3rver',
    endpoint: server.endpoint,
    accessId: server.accessId,
    accessKey: server.accessKey,
    pids: { s3rver: pid },
    flags: () => s3rverFlags(server),
    createBucket: (name) => server.createBucket(name),
    dropBucket: (name) => rm(join(server.directory, name), { recursive: true, force: true }),
    // s3rver takes anonymous requests: the ceiling carries no signing cost at all.
    rawRequestHeaders: async (_method, _path, headers) => headers,
    description: `s3rver (child process, PID ${pid}), data on tmpfs (${server.directory})`,
    stop: () => server.stop(),
  };
}
