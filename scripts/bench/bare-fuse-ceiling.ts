// The frontend ceiling: a bare fuse-native file in memory, served from this process with the same
// request size s3backer negotiates (big_writes, 128 KiB) and direct_io, so every request is one
// FUSE round trip. What FUSE itself can do here, with no engine behind it: dd with 128 KiB
// requests (the sequential ceiling), and the fio rows' 4 KiB random jobs (the random ceiling).
import { join } from 'node:path';
import { Fuse } from '../../src/frontends/fuse/fuse-binding.js';
import type { Ceiling } from './bench-row.js';
import { cleanup } from './cleanup-stack.js';
import { runFio, FIO_DEPTH, type FioEngine } from './fio-run.js';
import { CpuMeter } from './proc-stats.js';
import { timedDd } from './timed-dd.js';

export const FUSE_REQUEST = 128 * 1024;

export interface BareFuseCeilings {
  write: Ceiling;
  read: Ceiling;
  randRead?: Ceiling;
  randWrite?: Ceiling;
}

/** `mnt`: an empty directory to mount on; `fio`: also the 4 KiB random jobs, for this long each. */
export async function bareFuseCeiling(source: string, mnt: string, total: number, fio?: { engine: FioEngine; seconds: number }): Promise<BareFuseCeilings> {
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
    const measure = async (name: string, run: () => Promise<{ value: number; seconds: number }>, unit: Ceiling['unit']): Promise<Ceiling> => {
      const meter = new CpuMeter({});
      const { value, seconds } = await run();
      return { name, value, unit, seconds, cpu: meter.stop().cpu };
    };
    const file = join(mnt, 'file');
    const dd = async (operands: string[]) => {
      const { mbps, seconds } = await timedDd(operands, FUSE_REQUEST, total);
      return { value: mbps, seconds };
    };
    const ceilings: BareFuseCeilings = {
      write: await measure('bare FUSE write 128k', () => dd([`if=${source}`, `of=${file}`, 'conv=notrunc,fsync']), 'MB/s'),
      read: await measure('bare FUSE read 128k', () => dd([`if=${file}`, 'of=/dev/null']), 'MB/s'),
    };
    if (fio) {
      const random = async (rw: 'randread' | 'randwrite') => {
        const run = await runFio({ file, rw, size: total, seconds: fio.seconds, engine: fio.engine });
        return { value: run.iops, seconds: run.seconds };
      };
      ceilings.randRead = await measure(`bare FUSE fio randread 4k x${FIO_DEPTH}`, () => random('randread'), 'IOPS');
      ceilings.randWrite = await measure(`bare FUSE fio randwrite 4k x${FIO_DEPTH}`, () => random('randwrite'), 'IOPS');
    }
    return ceilings;
  } finally {
    await release();
  }
}
