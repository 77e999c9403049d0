import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface S3rverServer {
  /** `http://127.0.0.1:PORT/` */
  endpoint: string;
  port: number;
  /** s3rver checks only the access key id (it does not verify signatures). */
  accessId: 'S3RVER';
  accessKey: 'S3RVER';
  /** s3rver's data directory: `<directory>/<bucket>/...`. */
  directory: string;
  /** Create a bucket (an S3 `PUT /<name>`). */
  createBucket(name: string): Promise<void>;
  /** Freeze the server process (SIGSTOP): connections are accepted but never answered, a hung server. */
  pause(): void;
  /** Let a paused server go on (SIGCONT). */
  resume(): void;
  /** Stop the server process (by PID) and remove its data directory. */
  stop(): Promise<void>;
}

/** The flags that point s3backer's command line at `server`: its endpoint and its keys. */
export function s3rverFlags(server: S3rverServer): string[] {
  return [`--baseURL=${server.endpoint}`, `--accessId=${server.accessId}`, `--accessKey=${server.accessKey}`];
}

const MAIN = fileURLToPath(new URL('./s3rver-main.js', import.meta.url));
const START_TIMEOUT_MS = 20_000;

/**
 * s3rver in a child process (never on the test's event loop: tests spawn FUSE daemons and run
 * blocking tools), on 127.0.0.1 with a free port, with its data in a fresh temp directory.
 */
export async function startS3rver(options: { buckets?: string[] } = {}): Promise<S3rverServer> {
  const directory = await mkdtemp(join(tmpdir(), 's3rver-'));
  const child = spawn(process.execPath, [MAIN, JSON.stringify({ directory, buckets: options.buckets ?? [] })], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  const keep = (chunk: Buffer) => { output = (output + chunk.toString()).slice(-16_384); };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`s3rver did not start within ${START_TIMEOUT_MS} ms:\n${output}`)), START_TIMEOUT_MS);
      child.on('message', (message: { type?: string; port?: number }) => {
        if (message.type === 'listening' && typeof message.port === 'number') {
          clearTimeout(timer);
          resolve(message.port);
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`s3rver exited (${code ?? signal}) before listening:\n${output}`));
      });
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  } catch (error) {
    await kill(child, exited);
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
  // A test that forgets stop() must not hang its process: the child exits when the IPC channel closes.
  setReferenced(child, false);

  let stopped: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}/`,
    port,
    accessId: 'S3RVER',
    accessKey: 'S3RVER',
    directory,
    createBucket: (name) => createBucket(port, name),
    pause: () => { child.kill('SIGSTOP'); },
    resume: () => { child.kill('SIGCONT'); },
    stop: () => (stopped ??= (async () => {
      setReferenced(child, true);
      child.kill('SIGCONT');
      await kill(child, exited);
      await rm(directory, { recursive: true, force: true });
    })()),
  };
}

async function kill(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

function setReferenced(child: ChildProcess, referenced: boolean): void {
  const handles = [child, child.channel, child.stdout as Socket | null, child.stderr as Socket | null];
  for (const handle of handles) {
    if (handle) referenced ? handle.ref() : handle.unref();
  }
}

/** Unsigned `PUT /<bucket>`: s3rver accepts anonymous requests. */
function createBucket(port: number, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'PUT', path: `/${encodeURIComponent(name)}`, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk) => { body += chunk; });
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`creating bucket ${name} failed: HTTP ${res.statusCode} ${body}`))));
    });
    req.on('error', reject);
    req.end();
  });
}
