// The S3 server the benchmark's server rows mount, behind one interface so the workloads do not
// care which it is: s3rver (default: a Node process, in the repository's dev dependencies) or
// radosgw (Ceph's S3 gateway: a real server's costs, when it is installed). Each implementation
// lives in its own module and is imported only when chosen, so a run on s3rver never loads the
// radosgw helper (which may not exist in a checkout) and the other way round.
import type { OutgoingHttpHeaders } from 'node:http';

export const SERVER_TARGETS = ['s3rver', 'radosgw'] as const;
export type ServerTargetName = (typeof SERVER_TARGETS)[number];

export interface ServerTarget {
  name: ServerTargetName;
  /** `http://127.0.0.1:PORT/` */
  endpoint: string;
  accessId: string;
  accessKey: string;
  /** The server's processes by name, for their CPU over each step (radosgw: the gateway and the OSD behind it). */
  pids: Record<string, number>;
  /** s3backer flags pointing a mount at this server (endpoint and keys). */
  flags(): string[];
  createBucket(name: string): Promise<void>;
  /** Drop a bucket's objects once its rows are done, so the server's storage (tmpfs) stays bounded. */
  dropBucket(name: string): Promise<void>;
  /**
   * Headers that let an unsigned raw request through (the raw HTTP ceiling): none for s3rver,
   * which takes anonymous requests; a SigV4 signature over UNSIGNED-PAYLOAD for radosgw (the
   * cheapest signature S3 accepts: no body hash, so the ceiling still carries almost no client cost).
   */
  rawRequestHeaders(method: 'PUT' | 'GET', path: string, headers: OutgoingHttpHeaders): Promise<OutgoingHttpHeaders>;
  /** What the rows should say about this server (version, where its data lives). */
  description: string;
  stop(): Promise<void>;
}

/** Start the named server (its module imported only now). */
export async function startServerTarget(name: ServerTargetName): Promise<ServerTarget> {
  if (name === 's3rver') return (await import('./s3rver-target.js')).startS3rverTarget();
  return (await import('./radosgw-target.js')).startRadosgwTarget();
}
