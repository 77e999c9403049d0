// ext4 on the s3backer disk file, through a loop device with direct I/O (no second page cache
// between ext4 and FUSE). The loop device is detached and ext4 unmounted by the returned
// `release`, also after an interrupt; only the device this attached is ever detached.
import { cleanup } from './cleanup-stack.js';
import { mustRunTracked, runTracked } from './run-tracked.js';

/**
 * mkfs.ext4 on the disk file: no discard pass, inode tables zeroed now (no lazy init writing in the
 * background later), no reserved blocks; `inodes`: at least that many (small files need more than
 * the default one per 16 KiB of a small volume).
 */
export async function makeExt4(diskFile: string, inodes?: number): Promise<void> {
  await mustRunTracked('mkfs.ext4', ['-F', '-q', '-m', '0', '-E', 'nodiscard,lazy_itable_init=0,lazy_journal_init=0', ...(inodes ? ['-N', String(inodes)] : []), diskFile]);
}

export interface Ext4Mount {
  device: string;
  /** Whether the loop device really does direct I/O (losetup falls back to buffered when the file refuses O_DIRECT). */
  directIO: boolean;
  release: () => Promise<void>;
}

export async function mountExt4OnLoop(diskFile: string, at: string, mountOptions = 'noatime'): Promise<Ext4Mount> {
  const device = (await mustRunTracked('losetup', ['--direct-io=on', '--find', '--show', diskFile])).stdout.trim();
  let mounted = false;
  const release = cleanup.defer(`unmount ${at}, detach ${device}`, async () => {
    if (mounted) {
      const result = await runTracked('umount', [at], { forCleanup: true });
      if (result.code !== 0) {
        // Something still holds it (an interrupted cp): detach lazily, then the loop device can go.
        await runTracked('umount', ['-l', at], { forCleanup: true });
      }
    }
    const detach = await runTracked('losetup', ['-d', device], { forCleanup: true });
    if (detach.code !== 0) throw new Error(`losetup -d ${device}: ${detach.stderr.trim()}`);
  });
  try {
    const dio = (await mustRunTracked('losetup', ['--list', '--noheadings', '--output', 'DIO', device])).stdout.trim();
    await mustRunTracked('mount', ['-t', 'ext4', '-o', mountOptions, device, at]);
    mounted = true;
    return { device, directIO: dio === '1', release };
  } catch (error) {
    await release();
    throw error;
  }
}
