// Child-process entry of the s3rver test harness (s3rver-server.ts): runs s3rver on 127.0.0.1 in
// its own process, so a test that blocks its event loop (spawnSync, a FUSE daemon waiting on the
// kernel) never stalls the server. Argument: JSON `{ directory, buckets }`; reports
// `{ type: 'listening', port }` over IPC; exits on SIGTERM or when the parent goes away.
import { rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';

interface S3rverOptions {
  address: string;
  port: number;
  directory: string;
  silent: boolean;
  configureBuckets: Array<{ name: string }>;
}
interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}

// s3rver 3.7.1 is CommonJS without type declarations.
const S3rver = createRequire(import.meta.url)('s3rver') as new (options: S3rverOptions) => S3rverInstance;

const { directory, buckets } = JSON.parse(process.argv[2] ?? '{}') as { directory: string; buckets: string[] };
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  directory,
  silent: true,
  configureBuckets: buckets.map((name) => ({ name })),
});

let stopping = false;
async function stop(parentGone: boolean): Promise<void> {
  if (stopping) return;
  stopping = true;
  // close() waits for idle keep-alive connections; do not let a client's pool hold us up.
  const timer = setTimeout(() => process.exit(0), 1000);
  await server.close().catch(() => {});
  // stop() in the parent removes the directory; a parent that died cannot.
  if (parentGone) await rm(directory, { recursive: true, force: true }).catch(() => {});
  clearTimeout(timer);
  process.exit(0);
}
process.on('SIGTERM', () => void stop(false));
process.on('disconnect', () => void stop(true));

const address = await server.run();
process.send!({ type: 'listening', port: address.port });
