import { mustRun, runCommand } from './run-command.js';

/** Attach the disk file to a loop device (direct I/O: no double caching) and mount its ext4. */
export async function mountExt4(diskFile: string, at: string): Promise<() => Promise<void>> {
  const device = (await mustRun('losetup', ['--direct-io=on', '--find', '--show', diskFile])).trim();
  try {
    await mustRun('mount', ['-t', 'ext4', device, at]);
  } catch (error) {
    await runCommand('losetup', ['-d', device]);
    throw error;
  }
  return async () => {
    await mustRun('umount', [at]);
    await mustRun('losetup', ['-d', device]);
  };
}
