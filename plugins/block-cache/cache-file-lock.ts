import { open, readFile, unlink } from 'node:fs/promises';
import { S3BackerError } from 's3backer';

/** Who holds a cache file: enough to tell a live process from a dead one whose PID was reused. */
interface LockOwner {
  pid: number;
  /** The kernel's boot id: a lock from before a reboot is stale whatever its PID. */
  bootId: string;
  /** The process's start time in clock ticks since boot (/proc/PID/stat field 22). */
  startTime: string;
}

async function bootId(): Promise<string> {
  return (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
}

async function startTimeOf(pid: number): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

async function alive(owner: LockOwner): Promise<boolean> {
  return owner.bootId === await bootId() && owner.startTime === await startTimeOf(owner.pid);
}

async function readOwner(lockPath: string): Promise<LockOwner | undefined> {
  try {
    const owner = JSON.parse(await readFile(lockPath, 'utf8')) as Partial<LockOwner>;
    return typeof owner.pid === 'number' && typeof owner.bootId === 'string' && typeof owner.startTime === 'string' ? owner as LockOwner : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `FILE.lock` beside a cache file: one s3backer process uses a cache file at a time. Without it a
 * second mount with the same file would read the live mount's token and take its mounted flag as
 * "our own crashed mount" (Node has no flock, so the owner's PID, boot id and start time are
 * recorded; a lock whose owner is gone is stale and taken over).
 */
export class CacheFileLock {
  private constructor(private readonly lockPath: string) {}

  /** The PID of a live process holding `file`'s lock, if any (this process too: another engine in it may hold it). */
  static async holder(file: string): Promise<number | undefined> {
    const owner = await readOwner(`${file}.lock`);
    return owner && await alive(owner) ? owner.pid : undefined;
  }

  static async acquire(file: string): Promise<CacheFileLock> {
    const lockPath = `${file}.lock`;
    const me: LockOwner = { pid: process.pid, bootId: await bootId(), startTime: (await startTimeOf(process.pid)) ?? '' };
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const handle = await open(lockPath, 'wx', 0o600);
        try {
          await handle.writeFile(JSON.stringify(me));
          await handle.sync();
        } finally {
          await handle.close();
        }
        return new CacheFileLock(lockPath);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new S3BackerError('S3B_CACHE_FILE', `cannot create the lock ${lockPath} for --blockCacheFile: ${(error as Error).message}; check the directory's permissions`, { cause: error });
        }
      }
      const owner = await readOwner(lockPath);
      if (owner && await alive(owner)) {
        throw new S3BackerError('S3B_CACHE_FILE',
          `cache file ${file} is in use by s3backer process ${owner.pid}; unmount that one first, or give this mount another --blockCacheFile`);
      }
      // The owner is gone (a crash, a reboot): the lock is stale.
      await unlink(lockPath).catch(() => {});
    }
    throw new S3BackerError('S3B_CACHE_FILE', `could not take the lock ${lockPath} (another process keeps taking it); try again`);
  }

  async release(): Promise<void> {
    const owner = await readOwner(this.lockPath);
    if (owner?.pid === process.pid) await unlink(this.lockPath).catch(() => {});
  }
}
