// The backend ceiling: raw, unsigned keep-alive HTTP PUTs then GETs of block-sized objects, 32 in
// flight, to the same s3rver the mounts use. No SDK, no signing, no engine: what the server itself
// can take on this machine in this run.
import { Agent, request } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { S3rverServer } from '../../test/helpers/s3rver-server.js';
import { cleanup } from './cleanup-stack.js';
import { CpuMeter } from './proc-stats.js';

export const IN_FLIGHT = 32;

export interface CeilingRun {
  mbps: number;
  seconds: number;
  /** CPU per process over the run (`s3rver`, `bench` = this client). */
  cpu: Record<string, { seconds: number; cores: number }>;
}

export async function rawHttpCeiling(server: S3rverServer, bucket: string, objectSize: number, total: number, s3rverPid: number): Promise<{ put: CeilingRun; get: CeilingRun }> {
  const agent = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
  const body = randomBytes(objectSize);
  const count = total / objectSize;
  const url = new URL(server.endpoint);
  const one = (method: 'PUT' | 'GET', i: number) => new Promise<void>((resolve, reject) => {
    const req = request({
      host: url.hostname, port: url.port, method, path: `/${bucket}/obj${i}`, agent,
      // Unsigned: s3rver accepts anonymous requests, and the ceiling should carry no client signing cost.
      headers: method === 'PUT' ? { 'content-length': body.length } : {},
    }, (res) => {
      let received = 0;
      res.on('data', (chunk: Buffer) => { received += chunk.length; });
      res.on('end', () => {
        if (res.statusCode! >= 300) reject(new Error(`${method} /${bucket}/obj${i}: HTTP ${res.statusCode}`));
        else if (method === 'GET' && received !== objectSize) reject(new Error(`GET /${bucket}/obj${i}: ${received} bytes, expected ${objectSize}`));
        else resolve();
      });
    });
    req.on('error', reject);
    req.end(method === 'PUT' ? body : undefined);
  });
  const run = async (method: 'PUT' | 'GET'): Promise<CeilingRun> => {
    let next = 0;
    const meter = new CpuMeter({ s3rver: s3rverPid });
    await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
      while (next < count) {
        cleanup.check();
        await one(method, next++);
      }
    }));
    const { wallSeconds, cpu } = meter.stop();
    return { mbps: total / wallSeconds / 1e6, seconds: wallSeconds, cpu };
  };
  await server.createBucket(bucket);
  try {
    const put = await run('PUT');
    const get = await run('GET');
    return { put, get };
  } finally {
    agent.destroy();
  }
}
