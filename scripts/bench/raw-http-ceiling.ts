// The backend ceiling: raw keep-alive HTTP PUTs then GETs of block-sized objects, 32 in flight, to
// the same server the mounts use. No SDK, no engine, and no signing where the server allows it
// (s3rver; radosgw gets the cheapest signature, see ServerTarget.rawRequestHeaders): what the
// server itself can take on this machine in this run.
import { Agent, request, type OutgoingHttpHeaders } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { ServerTarget } from './server-target.js';
import type { Ceiling } from './bench-row.js';
import { formatSize } from './bench-options.js';
import { cleanup } from './cleanup-stack.js';
import { CpuMeter } from './proc-stats.js';

export const IN_FLIGHT = 32;

export async function rawHttpCeiling(server: ServerTarget, bucket: string, objectSize: number, total: number): Promise<{ put: Ceiling; get: Ceiling }> {
  const agent = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
  const body = randomBytes(objectSize);
  const count = total / objectSize;
  const url = new URL(server.endpoint);
  const one = async (method: 'PUT' | 'GET', i: number) => {
    const path = `/${bucket}/obj${i}`;
    const headers = await server.rawRequestHeaders(method, path, method === 'PUT' ? { 'content-length': body.length } : {});
    return send(method, path, headers, i);
  };
  const send = (method: 'PUT' | 'GET', path: string, headers: OutgoingHttpHeaders, i: number) => new Promise<void>((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, agent, headers }, (res) => {
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
  // CPU per process over the run: the server's processes, and `bench` = this client.
  const run = async (method: 'PUT' | 'GET'): Promise<Ceiling> => {
    let next = 0;
    const meter = new CpuMeter(server.pids);
    await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
      while (next < count) {
        cleanup.check();
        await one(method, next++);
      }
    }));
    const { wallSeconds, cpu } = meter.stop();
    return { name: `raw ${method} ${formatSize(objectSize)} x${IN_FLIGHT}`, value: total / wallSeconds / 1e6, unit: 'MB/s', seconds: wallSeconds, cpu };
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
