// The frontend ceiling: a bare fuse-native file in memory, served from this process with the same
// request size s3backer negotiates (big_writes, 128 KiB) and direct_io, so every dd request is one
// FUSE round trip. What FUSE itself can do here, with no engine behind it.
import { join } from 'node:path';
import { Fuse } from '../../src/frontends/fuse/fuse-binding.js';
import { cleanup } from './cleanup-stack.js';
import { CpuMeter } from './proc-stats.js';
import { timedDd } from './timed-dd.js';

export const FUSE_REQUEST = 128 * 1024;

export interface BareFuseRun {
  mbps: number;
  seconds: number;
  cpu: Record<string, { seconds: number; cores: number }>;
}

/** `mnt`: an empty directory to mount on. */
export async function bareFuseCeiling(source: string, mnt: string, total: number): Promise<{ write: BareFuseRun; read: BareFuseRun }> {
  const data = Buffer.alloc(total);
  const now = new Date();
  const stat = (mode: number, size: number) => ({ mode, size, uid: 0, gid: 0, nlink: 1, atime: now, mtime: now, ctime: now });
  const fuse = new (class extends Fuse {
    // fuse-native's option whitelist lacks big_writes/max_write (fuse-native's index.js `_fuseOptions`).
    protected override _fuseOptions(): string { return `${super._fuseOptions() || '-o'}${super._fuseOptions() ? ',' : ''}big_writes,max_write=${FUSE_REQUEST},direct_io`; }
  })(mnt, {
    getattr: (p, cb) => (p === '/' ? cb(0, stat(0o40755, 4096)) : p === '/file' ? cb(0, stat(0o100600, total)) : cb(-2)),
    readdir: (_p, cb) => cb(0, ['file']),
    open: (_p, _f, cb) => cb(0, 1),
    release: (_p, _fd, cb) => cb(0),
    read: (_p, _fd, buf, len, pos, cb) => cb(data.copy(buf, 0, pos, Math.min(total, pos + len))),
    write: (_p, _fd, buf, len, pos, cb) => cb(buf.copy(data, pos, 0, len)),
    fsync: (_p, _d, _fd, cb) => cb(0),
    flush: (_p, _fd, cb) => cb(0),
  }, { timeout: false });
  await new Promise<void>((resolve, reject) => fuse.mount((e) => (e ? reject(e) : resolve())));
  const release = cleanup.defer(`unmount ${mnt} (bare FUSE)`, () => new Promise<void>((resolve) => fuse.unmount(() => resolve())));
  try {
    const measure = async (operands: string[]): Promise<BareFuseRun> => {
      const meter = new CpuMeter({});
      const { mbps, seconds } = await timedDd(operands, FUSE_REQUEST, total);
      return { mbps, seconds, cpu: meter.stop().cpu };
    };
    const write = await measure([`if=${source}`, `of=${join(mnt, 'file')}`, 'conv=notrunc,fsync']);
    const read = await measure([`if=${join(mnt, 'file')}`, 'of=/dev/null']);
    return { write, read };
  } finally {
    await release();
  }
}
