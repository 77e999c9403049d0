import { join } from 'node:path';
import { S3backerProcess } from '../../test/helpers/s3backer-process.js';
import { attachLoop } from '../../test/helpers/loop-device.js';
import { mustRun, runCommand } from '../../test/helpers/run-command.js';
import { mountedPaths } from '../../src/frontends/fuse/mount-table.js';

export interface CrashVolumePaths {
  /** The FUSE mount point: s3backer's `file` is the disk. */
  fuseDir: string;
  /** Where the ext4 on the disk is mounted. */
  ext4Dir: string;
}

/**
 * The stack under test, one piece at a time: s3backer (bin/s3backer, a process of its own) serving
 * the disk over FUSE, a loop device on the disk (direct I/O, as the tests attach it), ext4 on the
 * loop device. Each piece is taken down by name (this process's PID, this loop device, this mount
 * point), never "all of them".
 */
export class CrashVolume {
  proc: S3backerProcess | undefined;
  private loop: string | undefined;
  private ext4Mounted = false;

  constructor(readonly paths: CrashVolumePaths, private readonly mountOptions: readonly string[]) {}

  get diskFile(): string {
    return join(this.paths.fuseDir, 'file');
  }

  get output(): string {
    return this.proc?.output ?? '';
  }

  async start(args: readonly string[]): Promise<S3backerProcess> {
    this.proc = await S3backerProcess.start(this.paths.fuseDir, args);
    return this.proc;
  }

  async attach(): Promise<void> {
    this.loop ??= await attachLoop(this.diskFile);
  }

  /** Mount the ext4: after a crash, this is where the kernel replays its journal, as after a power cut. */
  async mount(): Promise<void> {
    await this.attach();
    await mustRun('mount', ['-t', 'ext4', ...(this.mountOptions.length > 0 ? ['-o', this.mountOptions.join(',')] : []), this.loop!, this.paths.ext4Dir]);
    this.ext4Mounted = true;
  }

  async unmount(): Promise<void> {
    await mustRun('umount', [this.paths.ext4Dir]);
    this.ext4Mounted = false;
  }

  /** `e2fsck -fn`: a full check that changes nothing; exit status 0 means no problem found. */
  async fsck(): Promise<{ clean: boolean; output: string }> {
    await this.attach();
    const result = await runCommand('e2fsck', ['-fn', this.loop!]);
    return { clean: result.code === 0, output: `e2fsck exit ${result.code ?? result.signal}\n${result.stdout}${result.stderr}` };
  }

  /** `kill -9` of s3backer, now. */
  async kill(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.child.exitCode !== null || proc.child.signalCode !== null) return;
    proc.child.kill('SIGKILL');
    await proc.exited;
  }

  /**
   * What is left after the crash, taken down as after any crash: the ext4 lazily unmounted (its
   * disk is gone), the loop device detached, the dead FUSE mount lazily unmounted.
   */
  async cleanUp(): Promise<void> {
    await this.kill();
    if (this.ext4Mounted) await runCommand('umount', ['-l', this.paths.ext4Dir]);
    this.ext4Mounted = false;
    if (this.loop) await runCommand('losetup', ['-d', this.loop]);
    this.loop = undefined;
    if ((await mountedPaths()).has(this.paths.fuseDir)) await runCommand('umount', ['-l', this.paths.fuseDir]);
    this.proc = undefined;
  }

  /** A clean stop: ext4 unmounted, loop detached, s3backer unmounted; resolves to its exit status. */
  async stop(): Promise<number | null> {
    if (this.ext4Mounted) await this.unmount();
    if (this.loop) await mustRun('losetup', ['-d', this.loop]);
    this.loop = undefined;
    const code = await this.proc!.unmount();
    this.proc = undefined;
    return code;
  }
}
