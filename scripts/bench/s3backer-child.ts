// What every s3backer process the benchmark starts has in common, whether it serves a FUSE mount
// (s3backer-mount.ts) or an NBD export (s3backer-nbd.ts): `node [nodeFlags] bin/s3backer -f ARGS`
// in its own process group (a terminal's Ctrl-C reaches only the benchmark, which then stops it
// in order), the last 16 KiB of its output for error messages, its exit, and /proc samples of its
// CPU and peak RSS.
import { spawn, type ChildProcess } from 'node:child_process';
import { S3BACKER_BIN } from '../../test/helpers/s3backer-process.js';
import { cpuSeconds, statusMiB } from './proc-stats.js';

export class S3backerChild {
  private readonly child: ChildProcess;
  private tail = '';
  readonly exited: Promise<number | null>;
  exitCode: number | null | undefined;

  constructor(args: readonly string[], nodeFlags: readonly string[]) {
    this.child = spawn(process.execPath, [...nodeFlags, S3BACKER_BIN, '-f', ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const keep = (chunk: Buffer) => { this.tail = (this.tail + chunk.toString()).slice(-16_384); };
    this.child.stdout!.on('data', keep);
    this.child.stderr!.on('data', keep);
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => {
      this.exitCode = code;
      resolve(code);
    }));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The end of what it printed, for error messages. */
  get output(): string {
    return this.tail;
  }

  signal(name: NodeJS.Signals): void {
    if (this.exitCode === undefined) this.child.kill(name);
  }

  /** Wait for the exit, SIGKILL after `timeoutMs`; resolves to the exit code. */
  async waitForExit(timeoutMs: number): Promise<number | null> {
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    return this.exited.finally(() => clearTimeout(timer));
  }

  /** Last resort: SIGKILL by PID and wait for it. */
  async kill(): Promise<void> {
    if (this.exitCode === undefined) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }

  /** CPU seconds of the process so far (all threads). */
  cpuSeconds(): number {
    return cpuSeconds(this.pid) ?? NaN;
  }

  /** Peak RSS so far, MiB. */
  peakRssMiB(): number {
    return statusMiB(this.pid, 'VmHWM') ?? NaN;
  }

  /** Resident set now, MiB. */
  rssMiB(): number {
    return statusMiB(this.pid, 'VmRSS') ?? NaN;
  }
}
