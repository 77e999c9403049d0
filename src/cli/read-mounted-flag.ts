import type { ObjectStore } from '../engine/object-store.js';
import { SHARED_DISK_TOKEN, tokenOf } from '../engine/mount-lease.js';

/** A volume's mounted flag as the maintenance commands report it. */
export interface MountedFlag {
  /** The flag's mount token (1 for a flag written before the C tool's 1.5.0, which had none). */
  readonly token: number;
  /** Host name and UTC time (`YYYYMMDDTHHMMSSZ`) from the flag's body, when it has the C tool's two lines. */
  readonly host: string | undefined;
  readonly since: string | undefined;
  /** `by HOST since TIME (mount token 0x…)`, or `(shared disk mode, mount token 0x7fffffff)`. */
  readonly description: string;
}

/**
 * Read the mounted flag at `key` without touching it: what `--erase` checks before deleting and
 * `--reset-mounted-flag` reports after clearing. Parsed as the mount does (mount-lease.ts): the
 * token from `x-amz-meta-s3backer-mount-token`, the holder from the body the C tool writes
 * (http_io.c, `"<hostname>\n<YYYYMMDDTHHMMSSZ>\n"`). Undefined when the flag is not set.
 */
export async function readMountedFlag(store: ObjectStore, key: string): Promise<MountedFlag | undefined> {
  const flag = await store.get(key);
  if (!flag) return undefined;
  const token = tokenOf(flag.metadata);
  const lines = flag.body.toString('utf8').trim().split('\n');
  const [host, since] = lines.length === 2 ? lines : [undefined, undefined];
  const hex = `0x${token.toString(16).padStart(8, '0')}`;
  const description = token === SHARED_DISK_TOKEN
    ? `(shared disk mode, mount token ${hex})`
    : `${host !== undefined ? `by ${host} since ${since} ` : ''}(mount token ${hex})`;
  return { token, host, since, description };
}
