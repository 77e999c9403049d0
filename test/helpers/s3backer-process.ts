import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mountedPaths } from '../../src/frontends/fuse/mount-table.js';
import { runCommand, type CommandResult } from './run-command.js';

export const S3BACKER_BIN = fileURLToPath(new URL('../../../bin/s3backer', import.meta.url));

/** Whether a process exists (signal 0 probes without signalling). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Run `bin/s3backer` to completion (errors, --help, erase ...). */
export function runS3backer(args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): Promise<CommandResult> {
  return runCommand(S3BACKER_BIN, args, options);
}

/**
 * A foreground (`-f`) s3backer serving a mount, started and stopped by PID. `started` resolves
 * once the mount point is in the mount table, or rejects with the process's output if it exits.
 */
export class S3backerProcess {
  readonly child: ChildProcess;
  output = '';
  readonly exited: Promise<number | null>;

  private constructor(readonly mountPoint: string, args: readonly string[]) {
    this.child = spawn(S3BACKER_BIN, ['-f', ...args, mountPoint], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (chunk) => { this.output += chunk; });
    this.child.stderr!.on('data', (chunk) => { this.output += chunk; });
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  static async start(mountPoint: string, args: readonly string[], timeoutMs = 30_000): Promise<S3backerProcess> {
    const proc = new S3backerProcess(mountPoint, args);
    let exitCode: number | null | undefined;
    void proc.exited.then((code) => { exitCode = code; });
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (exitCode !== undefined) throw new Error(`s3backer exited with ${exitCode} before mounting:\n${proc.output}`);
      if ((await mountedPaths()).has(mountPoint)) return proc;
      await sleep(50);
    }
    proc.child.kill('SIGKILL');
    throw new Error(`s3backer did not mount ${mountPoint} within ${timeoutMs} ms:\n${proc.output}`);
  }

  /** `umount` the mount point and wait for the process to finish its shutdown and exit. */
  async unmount(timeoutMs = 60_000): Promise<number | null> {
    const result = await runCommand('umount', [this.mountPoint]);
    if (result.code !== 0) throw new Error(`umount ${this.mountPoint} failed: ${result.stderr}`);
    return this.waitForExit(timeoutMs);
  }

  async waitForExit(timeoutMs = 60_000): Promise<number | null> {
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Last resort in `finally`: kill by PID and lazily detach the mount. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
    if ((await mountedPaths()).has(this.mountPoint)) await runCommand('umount', ['-l', this.mountPoint]);
  }
}
