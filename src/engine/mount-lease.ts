import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { PreconditionFailedError, type ObjectStore } from './object-store.js';
import type { Logger } from './logger.js';
import { S3BackerError } from '../errors/s3backer-error.js';

export const MOUNT_TOKEN_META = 's3backer-mount-token';
/**
 * The C tool's token for shared-disk mode (`--sharedDiskMode`, archiecobbs/s3backer#236); such a volume
 * is never mounted normally.
 */
export const SHARED_DISK_TOKEN = 0x7fffffff;

const hex8 = (n: number) => n.toString(16).padStart(8, '0');

/**
 * Least wait before reading the flag back on a store without conditional PUT: a mount that found
 * no flag just before ours was written has written its own by then, unless its found-nothing-to-PUT
 * step took longer than this (the wait is also at least twice as long as ours took).
 */
export const READ_BACK_DELAY_MS = 1000;

/** The C tool's mount-token body: `<hostname>\n<YYYYMMDDTHHMMSSZ>\n` (UTC). */
export function mountTokenBody(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${hostname()}\n${stamp}\n`;
}

/** Token of an existing flag object: its header, or 1 for a pre-1.5.0 flag without one (C behaviour). */
export function tokenOf(metadata: Record<string, string>): number {
  const text = metadata[MOUNT_TOKEN_META];
  return text === undefined ? 1 : parseInt(text, 16) || 1;
}

export interface MountLeaseOptions {
  key: string;
  description: string;
  force: boolean;
  readOnly: boolean;
  /**
   * `--sharedDiskMode` (cluster filesystems mounted from several hosts): the flag holds the C tool's
   * shared token, which every shared-mode mount accepts and none clears (the C tool, #236).
   */
  shared?: boolean;
  log: Logger;
  /** Whether a set flag with this token is our own crashed mount's (a cache file recorded it), so it may be taken over. */
  reclaim?: (token: number) => Promise<boolean>;
  /** The least wait before the read-back on a store without conditional PUT; default READ_BACK_DELAY_MS. */
  readBackDelayMs?: number;
}

/**
 * The "mounted" flag: the `s3backer-mounted` object exactly as the C tool writes it (http_io.c), taken
 * with a conditional PUT (`If-None-Match: *`) where the store supports it, so two simultaneous
 * mounts cannot both win (the C tool's HEAD-then-PUT can race). On a store without conditional PUT
 * the flag is read back after a short wait, and the mount gives up if it holds another token: of
 * two mounts racing, the one whose PUT landed last keeps the flag, the other sees it and leaves
 * (docs/format.md). Read-only mounts check the flag but never write it. Release deletes the flag
 * only while it is still ours.
 */
export class MountLease {
  private constructor(
    private readonly store: ObjectStore,
    private readonly options: MountLeaseOptions,
    readonly token: number | undefined,
  ) {}

  static async acquire(store: ObjectStore, options: MountLeaseOptions): Promise<MountLease> {
    const started = performance.now();
    const existing = await store.get(options.key);
    const shared = options.shared === true;
    if (existing && shared && tokenOf(existing.metadata) === SHARED_DISK_TOKEN) {
      options.log.info(`${options.description} is in shared disk mode (mount token 0x${hex8(SHARED_DISK_TOKEN)}); joining it`);
      return new MountLease(store, options, undefined);
    }
    if (existing) {
      const token = tokenOf(existing.metadata);
      const holder = existing.body.toString('utf8').trim().split('\n');
      const who = holder.length === 2 ? ` by ${holder[0]} since ${holder[1]}` : '';
      const message = token === SHARED_DISK_TOKEN
        ? `${options.description} appears to be configured for shared disk mode (mount token 0x${hex8(token)}); mount it with --sharedDiskMode`
        : `${options.description} appears to be already mounted${who} (using mount token 0x${hex8(token)})${shared ? ', not in shared disk mode' : ''}`;
      if (token !== SHARED_DISK_TOKEN && await options.reclaim?.(token)) {
        options.log.warn(`${message}; recognised as our own earlier mount, which did not shut down cleanly: taking it over to recover its data`);
      } else if (!options.force) {
        throw new S3BackerError('S3B_MOUNTED_ELSEWHERE',
          `${message}; if it is not mounted anywhere, reset the flag with --reset-mounted-flag, or use --force to mount anyway`);
      } else {
        options.log.warn(`${message}; continuing because of --force`);
      }
    }
    if (options.readOnly) return new MountLease(store, options, undefined);

    let token = shared ? SHARED_DISK_TOKEN : 0;
    while (token === 0 || (token === SHARED_DISK_TOKEN && !shared)) token = 1 + Math.floor(Math.random() * (SHARED_DISK_TOKEN - 1));
    const conditional = !existing && store.supports.conditionalPut;
    try {
      await store.put(options.key, Buffer.from(mountTokenBody()), {
        contentType: 'text/plain',
        metadata: { [MOUNT_TOKEN_META]: hex8(token) },
        ...(conditional ? { ifNoneMatch: '*' as const } : {}),
      });
    } catch (error) {
      // Another shared-mode mount set the shared token first: that is the flag we wanted.
      if (error instanceof PreconditionFailedError && shared && tokenOf((await store.head(options.key))?.metadata ?? {}) === SHARED_DISK_TOKEN) {
        return new MountLease(store, options, undefined);
      }
      if (error instanceof PreconditionFailedError) {
        throw new S3BackerError('S3B_MOUNTED_ELSEWHERE',
          `${options.description} was mounted by another s3backer at the same moment; unmount it there first`, { cause: error });
      }
      throw error;
    }
    if (!conditional && !shared) await MountLease.readBack(store, options, token, performance.now() - started);
    options.log.info(`established new mount token 0x${hex8(token)}`);
    // The shared token is never cleared (the other hosts still use the volume): nothing to release.
    return new MountLease(store, options, shared ? undefined : token);
  }

  /**
   * Without If-None-Match, another mount that found no flag when we did has overwritten ours, or
   * is about to: wait, then read the flag. Not ours: leave the mount to the mount that holds it.
   */
  private static async readBack(store: ObjectStore, options: MountLeaseOptions, token: number, tookMs: number): Promise<void> {
    await delay(Math.max(options.readBackDelayMs ?? READ_BACK_DELAY_MS, 2 * tookMs));
    const current = await store.get(options.key);
    if (current && tokenOf(current.metadata) === token) return;
    const holder = current?.body.toString('utf8').trim().split('\n') ?? [];
    const who = holder.length === 2 ? ` on ${holder[0]}` : '';
    const what = current
      ? `another s3backer${who} set the mounted flag at the same moment (mount token 0x${hex8(tokenOf(current.metadata))}, ours was 0x${hex8(token)})`
      : `the mounted flag this mount had just set is gone (cleared elsewhere with --reset-mounted-flag?)`;
    throw new S3BackerError('S3B_MOUNTED_ELSEWHERE',
      `${options.description}: ${what}; this store cannot create the flag atomically (no conditional PUT), so this mount gives up to the other. Unmount it there first, then mount again`);
  }

  /** Clear the flag at clean unmount, unless someone else (a --force mount) holds it now. */
  async release(): Promise<void> {
    if (this.token === undefined) return;
    const current = await this.store.head(this.options.key);
    if (current && tokenOf(current.metadata) !== this.token) {
      this.options.log.warn(`mount token changed to 0x${hex8(tokenOf(current.metadata))} while mounted (another mount with --force?); leaving it in place`);
      return;
    }
    this.options.log.info('clearing mount token');
    await this.store.delete(this.options.key);
  }
}
