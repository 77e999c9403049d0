import { open } from 'node:fs/promises';
import { constants } from 'node:fs';

/**
 * Whether something claims the block device `path` (a mounted file system, LVM, md, swap): Linux
 * refuses an `O_EXCL` open of a block device that is claimed, with EBUSY. That is exactly the
 * case where disconnecting an NBD device would pull the disk from under a user with unwritten
 * data in its page cache, so `--nbd` refuses to detach then, as the FUSE front end refuses a lazy
 * unmount.
 */
export async function blockDeviceClaimed(path: string): Promise<boolean> {
  try {
    const handle = await open(path, constants.O_RDONLY | constants.O_EXCL);
    await handle.close();
    return false;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EBUSY') return true;
    // Gone or unreadable: nothing of ours holds it open.
    return false;
  }
}
