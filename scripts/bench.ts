// `npm run bench`: sequential write and read of 256 MiB through a real mount, on the memory store
// (engine + FUSE overhead) and on s3rver (the real path), each printed next to ceilings measured in
// the same run: bare FUSE over an in-memory file (frontend ceiling) and raw keep-alive HTTP PUT/GET
// of the same object size to the same s3rver (backend ceiling). Ratios survive a noisy machine.
import { mkdtemp, mkdir, rm, writeFile, readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'node:http';
import { Fuse } from '../src/frontends/fuse/fuse-binding.js';
import { startS3rver, type S3rverServer } from '../test/helpers/s3rver-server.js';
import { S3backerProcess } from '../test/helpers/s3backer-process.js';
import { fuseUnavailableReason } from '../test/helpers/fuse-support.js';
import { mustRun } from '../test/helpers/run-command.js';

const MiB = 1 << 20;
const TOTAL = Number(process.env.BENCH_MIB ?? 256) * MiB;
const BLOCK = 128 * 1024;
const rows: Array<{ workload: string; mbps: number; ceiling?: string; ceilingMbps?: number; note?: string }> = [];

/** dd through the page-cache-bypassing mount; returns MB/s (10^6 bytes per second, as dd prints). */
async function dd(args: string[]): Promise<number> {
  const started = process.hrtime.bigint();
  await mustRun('dd', [...args, `bs=${BLOCK}`, `count=${TOTAL / BLOCK}`, 'status=none'], { timeoutMs: 900_000 });
  return TOTAL / (Number(process.hrtime.bigint() - started) / 1e9) / 1e6;
}

/** Through bin/s3backer; `directIO` bypasses the page cache (one request in flight per dd), buffered lets the kernel overlap requests. */
async function throughMount(label: string, args: string[], source: string, work: string, directIO = true) {
  const mnt = join(work, `mnt-${label}`);
  await mkdir(mnt);
  const proc = await S3backerProcess.start(mnt, [...(directIO ? ['--directIO'] : []), `--size=${TOTAL}`, `--blockSize=${BLOCK}`, ...args]);
  try {
    const write = await dd([`if=${source}`, `of=${join(mnt, 'file')}`, 'conv=notrunc,fsync']);
    const read = await dd([`if=${join(mnt, 'file')}`, 'of=/dev/null']);
    const stats = await readFile(join(mnt, 'stats'), 'utf8');
    const count = (name: string) => /^(\S+)\s+(\d+)/m.test(stats) ? Number(new RegExp(`^${name}\\s+(\\d+)`, 'm').exec(stats)?.[1] ?? NaN) : NaN;
    return { write, read, puts: count('http_puts'), gets: count('http_gets') };
  } finally {
    await proc.unmount();
    await proc.kill();
  }
}

/** A bare fuse-native file in memory, served from this process: the frontend's ceiling. */
async function bareFuse(source: string, work: string) {
  const mnt = join(work, 'mnt-bare');
  await mkdir(mnt);
  const data = Buffer.alloc(TOTAL);
  const now = new Date();
  const stat = (mode: number, size: number) => ({ mode, size, uid: 0, gid: 0, nlink: 1, atime: now, mtime: now, ctime: now });
  const fuse = new (class extends Fuse {
    protected override _fuseOptions(): string { return `${super._fuseOptions() || '-o'}${super._fuseOptions() ? ',' : ''}big_writes,max_write=131072,direct_io`; }
  })(mnt, {
    getattr: (p, cb) => (p === '/' ? cb(0, stat(0o40755, 4096)) : p === '/file' ? cb(0, stat(0o100600, TOTAL)) : cb(-2)),
    readdir: (_p, cb) => cb(0, ['file']),
    open: (_p, _f, cb) => cb(0, 1),
    release: (_p, _fd, cb) => cb(0),
    read: (_p, _fd, buf, len, pos, cb) => cb(data.copy(buf, 0, pos, Math.min(TOTAL, pos + len))),
    write: (_p, _fd, buf, len, pos, cb) => cb(buf.copy(data, pos, 0, len)),
    fsync: (_p, _d, _fd, cb) => cb(0),
    flush: (_p, _fd, cb) => cb(0),
  }, { timeout: false });
  await new Promise<void>((resolve, reject) => fuse.mount((e) => (e ? reject(e) : resolve())));
  try {
    return { write: await dd([`if=${source}`, `of=${join(mnt, 'file')}`, 'conv=notrunc,fsync']), read: await dd([`if=${join(mnt, 'file')}`, 'of=/dev/null']) };
  } finally {
    await new Promise<void>((resolve) => fuse.unmount(() => resolve()));
  }
}

/** Raw keep-alive HTTP PUT then GET of BLOCK-sized objects, 32 in flight, to the same s3rver. */
async function rawHttp(server: S3rverServer) {
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  const body = randomBytes(BLOCK);
  const count = TOTAL / BLOCK;
  const url = new URL(server.endpoint);
  const one = (method: 'PUT' | 'GET', i: number) => new Promise<void>((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path: `/raw/obj${i}`, agent,
      // Unsigned: s3rver accepts anonymous requests, and the ceiling should carry no client signing cost.
      headers: method === 'PUT' ? { 'content-length': body.length } : {} }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode! < 300 ? resolve() : reject(new Error(`${method} ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(method === 'PUT' ? body : undefined);
  });
  const run = async (method: 'PUT' | 'GET') => {
    let next = 0;
    const started = process.hrtime.bigint();
    await Promise.all(Array.from({ length: 32 }, async () => { while (next < count) await one(method, next++); }));
    return TOTAL / (Number(process.hrtime.bigint() - started) / 1e9) / 1e6;
  };
  await server.createBucket('raw');
  const result = { put: await run('PUT'), get: await run('GET') };
  agent.destroy();
  return result;
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const blocked = fuseUnavailableReason();
  if (blocked) throw new Error(`${blocked}; the benchmark measures real mounts (try: sudo npm run bench)`);
  const work = await mkdtemp(join(tmpdir(), 's3backer-bench-'));
  // Random data (zeros would be elided), from tmpfs so the source is never the bottleneck.
  const source = join('/dev/shm', `s3backer-bench-${process.pid}`);
  await writeFile(source, randomBytes(TOTAL));
  const server = await startS3rver({ buckets: ['bench'] });
  try {
    console.log(`sequential ${TOTAL / MiB} MiB, ${BLOCK / 1024} KiB blocks, dd bs=${BLOCK / 1024}k; --directIO unless 'buffered'; ${new Date().toISOString()}`);
    const bare = await bareFuse(source, work);
    const memory = await throughMount('memory', ['--store=memory', 'bench'], source, work);
    const raw = await rawHttp(server);
    const s3Args = [`--baseURL=${server.endpoint}`, `--accessId=${server.accessId}`, `--accessKey=${server.accessKey}`];
    const s3 = await throughMount('s3', [...s3Args, 'bench/direct'], source, work);
    const s3Buffered = await throughMount('s3-buffered', [...s3Args, 'bench/buffered'], source, work, false);
    rows.push(
      { workload: 'write, memory store', mbps: memory.write, ceiling: 'bare FUSE write', ceilingMbps: bare.write },
      { workload: 'read, memory store', mbps: memory.read, ceiling: 'bare FUSE read', ceilingMbps: bare.read },
      { workload: 'write, s3rver', mbps: s3.write, ceiling: 'raw HTTP PUT, 32 in flight', ceilingMbps: raw.put, note: `${s3.puts} PUTs` },
      { workload: 'read, s3rver', mbps: s3.read, ceiling: 'raw HTTP GET, 32 in flight', ceilingMbps: raw.get, note: `${s3.gets} GETs` },
      { workload: 'write, s3rver, buffered', mbps: s3Buffered.write, ceiling: 'raw HTTP PUT, 32 in flight', ceilingMbps: raw.put, note: `${s3Buffered.puts} PUTs` },
      { workload: 'read, s3rver, buffered', mbps: s3Buffered.read, ceiling: 'raw HTTP GET, 32 in flight', ceilingMbps: raw.get, note: `${s3Buffered.gets} GETs` },
    );
    const pad = (text: string, n: number) => text.padEnd(n);
    console.log(`\n${pad('workload', 26)} ${pad('MB/s', 8)} ${pad('ceiling (same run)', 28)} ${pad('MB/s', 8)} ratio  requests`);
    for (const row of rows) {
      console.log(`${pad(row.workload, 26)} ${pad(row.mbps.toFixed(1), 8)} ${pad(row.ceiling ?? '', 28)} ${pad(row.ceilingMbps?.toFixed(1) ?? '', 8)} ${row.ceilingMbps ? (row.mbps / row.ceilingMbps).toFixed(2) : '    '}   ${row.note ?? ''}`);
    }
  } finally {
    await server.stop();
    await rm(source, { force: true });
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(`bench failed: ${error instanceof Error ? error.stack : String(error)}`);
  process.exitCode = 1;
});
