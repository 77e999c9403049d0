import { readdir, readFile } from 'node:fs/promises';

/**
 * The loop devices (`/dev/loopN`) whose backing file is `file`, by number. A loop device keeps
 * the disk file open, so it is what makes a non-lazy unmount fail with EBUSY; the kernel shows
 * each device's backing file, as a path, in /sys/block/loopN/loop/backing_file.
 */
export async function diskHolders(file: string): Promise<string[]> {
  const names = await readdir('/sys/block').catch(() => [] as string[]);
  const holders: number[] = [];
  for (const name of names) {
    const number = /^loop(\d+)$/.exec(name)?.[1];
    if (number === undefined) continue;
    // Detached devices have no backing_file; a device may also detach while we look.
    const backing = await readFile(`/sys/block/${name}/loop/backing_file`, 'utf8').catch(() => undefined);
    if (backing?.replace(/\n$/, '') === file) holders.push(Number(number));
  }
  return holders.sort((a, b) => a - b).map((n) => `/dev/loop${n}`);
}
