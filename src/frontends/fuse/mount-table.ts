import { readFile } from 'node:fs/promises';

/** One line of /proc/self/mountinfo: where it is mounted and which superblock (`major:minor`). */
export interface MountEntry {
  mountPoint: string;
  /** Field 3, e.g. `0:52`: unique per mounted file system, so it tells our FUSE mount from a later one at the same path. */
  device: string;
}

/** /proc/self/mountinfo in order (a later line at the same path is mounted on top of an earlier one). */
export async function mountEntries(): Promise<MountEntry[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const [device, mountPoint] = [fields[2], fields[4]];
    if (device && mountPoint) entries.push({ device, mountPoint: mountPoint.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))) });
  }
  return entries;
}

/** Mount points in /proc/self/mountinfo (field 5, with the kernel's octal escapes undone). */
export async function mountedPaths(): Promise<Set<string>> {
  return new Set((await mountEntries()).map((entry) => entry.mountPoint));
}
