// radosgw as the benchmark's server: test/helpers/rgw-server.ts's throwaway single-node Ceph
// cluster (one monitor, one memstore OSD: objects in RAM, so no disk is measured) behind radosgw
// on 127.0.0.1. The helper is imported here only, and only when --server=radosgw: the module name
// is computed so the compiler does not insist on it in a checkout without it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@smithy/core/checksum';
import { emptyBucket, targetS3Client } from './bucket-snapshot.js';
import type { ServerTarget } from './server-target.js';

/** The part of test/helpers/rgw-server.ts the benchmark uses (its RadosgwServer has more). */
interface RadosgwServer {
  endpoint: string;
  port: number;
  accessId: string;
  accessKey: string;
  /** The cluster's directory; `run/<daemon>.pid` holds each daemon's PID. */
  directory?: string;
  createBucket(name: string): Promise<void>;
  stop(): Promise<void>;
}
interface RgwHelper {
  startRadosgw(options?: { memstoreBytes?: number }): Promise<RadosgwServer>;
  rgwFlags(server: RadosgwServer): string[];
}

const HELPER = '../../test/helpers/rgw-server.js';
/**
 * RAM the memstore OSD may hold: every bucket of one block size (raw ceiling, dd, fio, ext4 and
 * the small files: ~5 × 256 MiB at the default --mib, buckets are emptied between block sizes)
 * with room for radosgw's own objects.
 */
const MEMSTORE_BYTES = 4 * 1024 ** 3;
const REGION = 'us-east-1';

export async function startRadosgwTarget(): Promise<ServerTarget> {
  let helper: RgwHelper;
  try {
    helper = (await import(HELPER)) as RgwHelper;
  } catch (error) {
    throw new Error(`--server=radosgw needs test/helpers/rgw-server.ts (startRadosgw, rgwFlags), compiled: ${(error as Error).message}`);
  }
  const server = await helper.startRadosgw({ memstoreBytes: MEMSTORE_BYTES });
  const client = targetS3Client(server);
  const signer = new SignatureV4({
    service: 's3', region: REGION, sha256: Sha256, uriEscapePath: false,
    credentials: { accessKeyId: server.accessId, secretAccessKey: server.accessKey },
  });
  const url = new URL(server.endpoint);
  const pids = daemonPids(server.directory);
  return {
    name: 'radosgw',
    endpoint: server.endpoint,
    accessId: server.accessId,
    accessKey: server.accessKey,
    pids,
    flags: () => helper.rgwFlags(server),
    createBucket: (name) => server.createBucket(name),
    dropBucket: (name) => emptyBucket(client, name),
    rawRequestHeaders: async (method, path, headers) => {
      const signed = await signer.sign({
        method, protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path,
        headers: { ...stringHeaders(headers), host: url.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
      });
      return signed.headers;
    },
    description: `radosgw on a single-node Ceph cluster (memstore OSD in RAM${Object.keys(pids).length ? `; ${Object.entries(pids).map(([n, p]) => `${n} PID ${p}`).join(', ')}` : ''})`,
    stop: async () => {
      client.destroy();
      await server.stop();
    },
  };
}

function stringHeaders(headers: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, String(value)]));
}

/** radosgw and the OSD (the daemons doing each request's work) from the cluster's pid files. */
function daemonPids(directory: string | undefined): Record<string, number> {
  const pids: Record<string, number> = {};
  if (!directory) return pids;
  for (const [name, file] of [['radosgw', 'client.rgw.a.pid'], ['ceph-osd', 'osd.0.pid']] as const) {
    try {
      const pid = Number(readFileSync(join(directory, 'run', file), 'utf8').trim());
      if (Number.isInteger(pid) && pid > 1) pids[name] = pid;
    } catch {
      // not there: that daemon's CPU is simply not reported
    }
  }
  return pids;
}
