import { before, after } from 'node:test';
import { startRadosgw, radosgwAvailability, logRadosgwSkip, type RadosgwServer } from './rgw-server.js';

export interface RadosgwPerFile {
  /** Why this file's radosgw tests skip (printed once), or undefined when radosgw runs. */
  skip: string | undefined;
  /** The file's server (started in `before`). */
  server(): RadosgwServer;
  /** A new empty bucket `<prefix>-N`. */
  freshBucket(): Promise<string>;
}

/** One radosgw for the whole test file (starting one takes 1-3 s), stopped after it, and a bucket per test. */
export function radosgwPerFile(bucketPrefix: string): RadosgwPerFile {
  const skip = radosgwAvailability();
  logRadosgwSkip(skip);
  let server: RadosgwServer | undefined;
  let buckets = 0;
  before(async () => {
    if (skip !== undefined) return;
    server = await startRadosgw();
    console.log(`radosgw answered ${server.startupMs} ms after the start (${server.endpoint})`);
  });
  after(async () => {
    await server?.stop();
  });
  return {
    skip,
    server: () => {
      if (!server) throw new Error('radosgw is not running (skipped, or before() failed)');
      return server;
    },
    async freshBucket() {
      const name = `${bucketPrefix}-${++buckets}`;
      await this.server().createBucket(name);
      return name;
    },
  };
}
