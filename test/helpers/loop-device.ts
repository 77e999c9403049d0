import { mustRun, runCommand } from './run-command.js';

/**
 * Attach a file to a free loop device with direct I/O (no double caching); returns its name
 * (`/dev/loopN`), which is what a test detaches in `finally` (never "all loop devices").
 */
export async function attachLoop(file: string): Promise<string> {
  return (await mustRun('losetup', ['--direct-io=on', '--find', '--show', file])).trim();
}

/** Attach the disk file to a loop device and mount its ext4. */
export async function mountExt4(diskFile: string, at: string): Promise<() => Promise<void>> {
  const device = await attachLoop(diskFile);
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
