import type { FuseOperations, FuseStat } from 's3backer-vendored-fuse-native';
import { Fuse } from './fuse-binding.js';
import { execFile } from 'node:child_process';
import { realpath } from 'node:fs/promises';
import { constants } from 'node:os';
import { join } from 'node:path';
import type { BlockDevice } from '../../engine/block-device.js';
import type { Frontend, StopRequest } from '../frontend.js';
import type { Logger } from '../../engine/logger.js';
import { S3BackerError } from '../../errors/s3backer-error.js';
import { errnoOf } from '../../errors/errno.js';
import { mountEntries } from './mount-table.js';
import { diskHolders } from './disk-holders.js';

/** libfuse 2.9 (bundled with fuse-native) never negotiates requests above 128 KiB. */
export const MAX_REQUEST_SIZE = 128 * 1024;

export interface FuseFrontendOptions {
  mountPoint: string;
  filename: string;
  /** Empty: no stats file. */
  statsFilename: string;
  fileMode: number;
  readOnly: boolean;
  directIO: boolean;
  /** Shown as the source in /proc/mounts, like the C tool's `fsname=<baseURL><bucket>/<prefix>`. */
  fsname: string;
  /** Extra FUSE/mount options from `-o` (allow_other, uid=, ...). */
  fuseOptions: readonly string[];
  /** Text of the stats file, generated on every open (C: on every getattr/open). */
  statsText: () => string;
  resetStats: () => void;
  log: Logger;
}

/** What became of a request to unmount (`FuseFrontend.requestUnmount`). */
type UnmountRequest =
  /** The kernel unmounted it: the FUSE loop is ending and `closed` will settle. */
  | { outcome: 'unmounted' }
  /** It is no longer attached (`umount -l`, or already unmounted): the loop ends when the last open file is released. */
  | { outcome: 'detached' }
  /** The disk file is still open. `holders` names the loop devices holding it (empty: a process has it open). */
  | { outcome: 'busy'; diskFile: string; holders: string[] }
  /** fusermount failed for another reason (`message` is its own). */
  | { outcome: 'failed'; message: string };

const ROOT_INO = 1;
const FILE_INO = 2;
const STATS_INO = 3;
const errno = (name: keyof typeof constants.errno) => -constants.errno[name];

/** fallocate(2) mode bits (linux/falloc.h). */
const FALLOC_FL_KEEP_SIZE = 0x01;
const FALLOC_FL_PUNCH_HOLE = 0x02;
const FALLOC_FL_ZERO_RANGE = 0x10;

/**
 * One directory with two entries, the disk file and the stats file (C fuse_ops.c). Every request
 * is async; fuse-native's libfuse runs several kernel requests at once. fsync and flush return
 * only when the block device says all acknowledged writes are stored.
 */
export class FuseFrontend implements Frontend {
  private readonly started = new Date();
  private mtime = new Date();
  private atime = new Date();
  private readonly openStats = new Map<number, Buffer>();
  private nextFd = 10;
  private ended = false;
  private endLoop!: () => void;
  /** The mounted file system's `major:minor` (mountinfo), so a later mount at the same path is never taken for ours. */
  private mountDevice: string | undefined;
  /** The disk file's path as the kernel shows it (mount point with symlinks resolved). */
  private diskFile: string;

  /**
   * Settles once the FUSE loop has ended: the kernel closed the connection because the mount is
   * gone AND the last open file on it was released, or because the connection was aborted. Only
   * then is the disk really free; until then a loop device may still be writing through it, even
   * after `umount -l` has removed the mount from the mount table.
   */
  readonly closed: Promise<void>;
  readonly description: string;
  private device!: BlockDevice;

  constructor(private readonly options: FuseFrontendOptions) {
    this.diskFile = join(options.mountPoint, options.filename);
    this.description = options.mountPoint;
    this.closed = new Promise<void>((resolve) => { this.endLoop = resolve; });
  }

  async start(device: BlockDevice): Promise<void> {
    this.device = device;
    await this.mount();
  }

  /**
   * SIGTERM/SIGINT, and the retries a second apart while busy: a NON-lazy unmount (requestUnmount).
   * `why` is undefined for a retry, which reports only news.
   */
  async requestStop(why?: string): Promise<StopRequest> {
    const mountPoint = this.options.mountPoint;
    const result = await this.requestUnmount();
    switch (result.outcome) {
      case 'unmounted':
        return { outcome: 'stopping', message: why ? `${why}: unmounted ${mountPoint}` : `unmounted ${mountPoint}: its last user let go` };
      case 'detached':
        return why
          ? { outcome: 'stopping', message: `${why}: ${mountPoint} is already unmounted (umount -l?) but a file on it is still open (a loop device?); serving until it is released` }
          : { outcome: 'stopping' };
      case 'busy': {
        const { diskFile, holders } = result;
        return {
          outcome: 'busy',
          message: holders.length > 0
            ? `${diskFile} is still in use by ${holders.join(', ')} (detach it with: umount <fs>; ${holders.map((device) => `losetup -d ${device}`).join('; ')}); serving until it is released`
            : `${mountPoint} is still in use (no loop device holds ${diskFile}; see fuser -vm ${mountPoint}); serving until it is released`,
        };
      }
      case 'failed':
        return { outcome: 'busy', message: `cannot unmount ${mountPoint}: ${result.message}; serving, and retrying every second` };
    }
  }

  private async mount(): Promise<void> {
    this.diskFile = join(await realpath(this.options.mountPoint).catch(() => this.options.mountPoint), this.options.filename);
    const extra = this.mountOptions();
    class S3BackerFuse extends Fuse {
      // fuse-native's option whitelist lacks big_writes/max_write; without big_writes buffered writes
      // arrive as 4 KiB requests (measured on this project's test machines: 28-60 MB/s instead of ~800 MB/s).
      protected override _fuseOptions(): string {
        const base = super._fuseOptions();
        return (base ? base + ',' : '-o') + extra.join(',');
      }
    }
    const fuse = new S3BackerFuse(this.options.mountPoint, this.operations(), {
      // fuse-native answers ETIMEDOUT after 15 s by default; an S3 write with retries may take longer.
      timeout: false,
      defaultPermissions: true,
      allowOther: process.getuid?.() === 0,
      debug: false,
      onLoopEnded: () => {
        this.ended = true;
        this.options.log.debug(`FUSE loop for ${this.options.mountPoint} ended`);
        this.endLoop();
      },
    });
    await new Promise<void>((resolve, reject) => fuse.mount((error) => (error
      ? reject(new S3BackerError('S3B_MOUNT_POINT', `cannot mount on ${this.options.mountPoint}: ${error.message}; check that it is an empty directory and that /dev/fuse is usable`, { cause: error }))
      : resolve())));
    this.mountDevice = (await mountEntries()).filter((entry) => entry.mountPoint === this.options.mountPoint).pop()?.device;
    this.options.log.info(`mounted on ${this.options.mountPoint}`);
  }

  /**
   * Ask for a NON-lazy unmount (`fusermount -u`). It fails with EBUSY while anything holds the disk
   * file open, so the disk is never pulled from under a user; then this names the loop devices that
   * hold it. fuse-native's own `unmount()` is lazy (`fusermount -uz`): it would detach the mount at
   * once and leave a loop device writing into a disk that is about to shut down.
   */
  private async requestUnmount(): Promise<UnmountRequest> {
    if (this.ended || !(await this.attached())) return { outcome: 'detached' };
    const { code, stderr } = await new Promise<{ code: number | string | undefined; stderr: string }>((resolve) => {
      // LC_ALL=C: the busy test below reads strerror's English text.
      execFile('fusermount', ['-u', '--', this.options.mountPoint], { env: { ...process.env, LC_ALL: 'C' } }, (error, _stdout, stderr) => {
        resolve({ code: (error as NodeJS.ErrnoException | null)?.code, stderr: String(stderr || (error?.message ?? '')) });
      });
    });
    if (code === undefined) return { outcome: 'unmounted' };
    if (/Device or resource busy/.test(stderr)) return { outcome: 'busy', diskFile: this.diskFile, holders: await diskHolders(this.diskFile) };
    // Unmounted meanwhile by someone else (fusermount: "entry ... not found"): nothing left to ask.
    if (this.ended || !(await this.attached())) return { outcome: 'detached' };
    return { outcome: 'failed', message: stderr.trim() || `fusermount exited with ${code}` };
  }

  /** Whether our mount is still attached at the mount point (not unmounted, lazily or otherwise). */
  private async attached(): Promise<boolean> {
    const entries = await mountEntries();
    return entries.some((entry) => entry.mountPoint === this.options.mountPoint && (this.mountDevice === undefined || entry.device === this.mountDevice));
  }

  private mountOptions(): string[] {
    return [
      'big_writes', `max_write=${MAX_REQUEST_SIZE}`, `max_read=${MAX_REQUEST_SIZE}`,
      // The stats file's length changes, so attributes are never cached (C: -oattr_timeout=0).
      'attr_timeout=0', 'entry_timeout=31536000', 'negative_timeout=31536000',
      'nodev', 'nosuid', 'subtype=s3backer', `fsname=${this.options.fsname.replace(/,/g, '\\,')}`,
      ...(this.options.directIO ? ['direct_io'] : []),
      ...(this.options.readOnly ? ['ro'] : []),
      ...this.options.fuseOptions,
    ];
  }

  private fileStat(): FuseStat {
    const { size, geometry } = this.device;
    return {
      mode: 0o100000 | this.options.fileMode, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0,
      size, nlink: 1, blksize: geometry.blockSize, blocks: Math.ceil(size / 512), ino: FILE_INO,
      atime: this.atime, mtime: this.mtime, ctime: this.started,
    };
  }

  private statsStat(length: number): FuseStat {
    const now = new Date();
    return {
      mode: 0o100444, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0,
      size: length, nlink: 1, ino: STATS_INO, atime: now, mtime: now, ctime: this.started,
    };
  }

  private which(path: string): 'root' | 'file' | 'stats' | undefined {
    if (path === '/') return 'root';
    if (path === '/' + this.options.filename) return 'file';
    if (this.options.statsFilename && path === '/' + this.options.statsFilename) return 'stats';
    return undefined;
  }

  private operations(): FuseOperations {
    const log = this.options.log;
    const fail = (what: string, error: unknown): number => {
      log.error(`${what}: ${error instanceof Error ? error.message : String(error)}`);
      return -errnoOf(error);
    };
    return {
      getattr: (path, cb) => {
        switch (this.which(path)) {
          case 'root': return cb(0, {
            mode: 0o040755, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, size: 4096, nlink: 2, ino: ROOT_INO,
            atime: this.started, mtime: this.started, ctime: this.started,
          });
          case 'file': return cb(0, this.fileStat());
          case 'stats': return cb(0, this.statsStat(Buffer.byteLength(this.options.statsText())));
          default: return cb(errno('ENOENT'));
        }
      },
      readdir: (path, cb) => {
        if (path !== '/') return cb(errno('ENOTDIR'));
        cb(0, ['.', '..', this.options.filename, ...(this.options.statsFilename ? [this.options.statsFilename] : [])]);
      },
      open: (path, flags, cb) => {
        const target = this.which(path);
        if (target === undefined) return cb(errno('ENOENT'));
        if (target === 'root') return cb(errno('EISDIR'));
        const writing = (flags & 3) !== 0; // O_WRONLY or O_RDWR
        if (target === 'stats') {
          if (writing) return cb(errno('EACCES'));
          const fd = this.nextFd++;
          this.openStats.set(fd, Buffer.from(this.options.statsText()));
          return cb(0, fd);
        }
        if (writing && this.options.readOnly) return cb(errno('EROFS'));
        this.atime = new Date();
        cb(0, this.nextFd++);
      },
      release: (_path, fd, cb) => {
        this.openStats.delete(fd);
        cb(0);
      },
      read: (path, fd, buffer, length, position, cb) => {
        const stats = this.openStats.get(fd);
        if (stats) {
          const end = Math.min(stats.length, position + length);
          return cb(position >= end ? 0 : stats.copy(buffer, 0, position, end));
        }
        if (this.which(path) !== 'file') return cb(errno('ENOENT'));
        // Reads are clipped at the end of the disk; at or past it they return 0 bytes (EOF).
        const count = Math.max(0, Math.min(length, this.device.size - position));
        if (count === 0) return cb(0);
        this.device.readInto(position, buffer.subarray(0, count)).then(() => cb(count), (error) => cb(fail(`read ${count}@${position}`, error)));
      },
      write: (path, _fd, buffer, length, position, cb) => {
        if (this.which(path) !== 'file') return cb(errno('EACCES'));
        if (this.options.readOnly) return cb(errno('EROFS'));
        // A disk cannot grow: writes are clipped at its end, and one starting there has no space.
        const count = Math.max(0, Math.min(length, this.device.size - position));
        if (length === 0) return cb(0);
        if (count === 0) return cb(errno('ENOSPC'));
        this.mtime = new Date();
        this.device.write(position, buffer.subarray(0, count)).then(() => cb(count), (error) => cb(fail(`write ${count}@${position}`, error)));
      },
      // close() and fsync both push every acknowledged write to the store before answering
      // (stronger than the C tool, whose fuse_ops.c fsync does nothing).
      flush: (path, _fd, cb) => {
        if (this.which(path) !== 'file') return cb(0);
        this.device.flush().then(() => cb(0), (error) => cb(fail('flush', error)));
      },
      fsync: (path, _datasync, _fd, cb) => {
        if (this.which(path) !== 'file') return cb(0);
        this.device.flush().then(() => cb(0), (error) => cb(fail('fsync', error)));
      },
      // The file has a fixed size; truncate succeeds and changes nothing, as in the C tool.
      truncate: (path, _size, cb) => cb(this.which(path) === undefined ? errno('ENOENT') : 0),
      ftruncate: (path, _fd, _size, cb) => cb(this.which(path) === undefined ? errno('ENOENT') : 0),
      utimens: (path, atime, mtime, cb) => {
        if (this.which(path) === 'file') {
          this.atime = atime;
          this.mtime = mtime;
        }
        cb(this.which(path) === undefined ? errno('ENOENT') : 0);
      },
      unlink: (path, cb) => {
        if (this.which(path) !== 'stats') return cb(errno('EPERM'));
        this.options.resetStats();
        cb(0);
      },
      // Punch-hole (and zero-range) zero the range: whole blocks are deleted from the store, edges
      // are zero-filled. This is how fstrim and a loop device's discards reach S3 (as in the C tool's fuse_ops.c
      // fallocate). Unlike the C tool, whose fallocate does not check --readOnly, a read-only mount refuses it.
      fallocate: (path, _fd, mode, offset, length, cb) => {
        if (this.which(path) !== 'file') return cb(errno('EOPNOTSUPP'));
        if (this.options.readOnly) return cb(errno('EROFS'));
        if (offset < 0 || length <= 0) return cb(errno('EINVAL'));
        const size = this.device.size;
        if (mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) {
          // A hole past the end of the file is already a hole: clip, as a regular file would.
          const end = Math.min(size, offset + length);
          if (offset >= end) return cb(0);
          this.mtime = new Date();
          return void this.device.trim(offset, end - offset).then(() => cb(0), (error) => cb(fail(`fallocate ${end - offset}@${offset}`, error)));
        }
        // Collapse/insert/unshare would change the layout of a fixed-size disk.
        if (mode & ~FALLOC_FL_KEEP_SIZE) return cb(errno('EOPNOTSUPP'));
        // Plain allocation: every byte of the disk is always there; growing it is impossible.
        cb(offset + length > size && !(mode & FALLOC_FL_KEEP_SIZE) ? errno('ENOSPC') : 0);
      },
      statfs: (_path, cb) => {
        const { blockSize, numBlocks } = this.device.geometry;
        cb(0, { bsize: blockSize, frsize: blockSize, blocks: numBlocks, bfree: 0, bavail: 0, files: 3, ffree: 0, favail: 0, namemax: 255 });
      },
    };
  }
}
