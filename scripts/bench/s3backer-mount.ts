// One bin/s3backer mount in the foreground (-f), started and stopped by PID. Like
// test/helpers/s3backer-process.ts, plus: node flags (--cpu-prof) before the script, its own process
// group (a terminal's Ctrl-C reaches only the benchmark, which then unmounts in order), the stats
// file as counters, and /proc samples of its CPU and peak RSS.
import { readFile } from 'node:fs/promises';
import { cleanup } from './cleanup-stack.js';
import { S3backerChild } from './s3backer-child.js';
import { runTracked } from './run-tracked.js';
import { join } from 'node:path';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function isMounted(path: string): Promise<boolean> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  return text.split('\n').some((line) => line.split(' ')[4]?.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))) === path);
}

/** The stats file's numeric lines (`http_puts 4096` → http_puts: 4096; `… 12 blocks` → 12). */
export type Counters = Record<string, number>;

export function parseStats(text: string): Counters {
  const counters: Counters = {};
  for (const line of text.split('\n')) {
    const match = /^(\S+)\s+(-?[\d.]+)/.exec(line);
    if (match) counters[match[1]!] = Number(match[2]);
  }
  return counters;
}

export class S3backerMount {
  private readonly process: S3backerChild;
  /** Resident set right after mounting (node, the SDK, the engine; an empty cache), MiB. */
  rssAtMountMiB = NaN;
  readonly release: () => Promise<void>;

  private constructor(readonly mountPoint: string, args: readonly string[], nodeFlags: readonly string[]) {
    this.process = new S3backerChild([...args, mountPoint], nodeFlags);
    // Interrupted: the store may be gone, so do not wait long for a clean shutdown.
    this.release = cleanup.defer(`unmount ${mountPoint} (s3backer PID ${this.process.pid})`, async () => {
      if (this.process.exitCode === undefined) await this.unmount(cleanup.interrupted ? 5_000 : 120_000).catch(() => {});
      await this.kill();
    });
  }

  get pid(): number {
    return this.process.pid;
  }

  get diskFile(): string {
    return join(this.mountPoint, 'file');
  }

  /** Start `node [nodeFlags] bin/s3backer -f ARGS MOUNTPOINT`; resolves once the mount is in the mount table. */
  static async start(mountPoint: string, args: readonly string[], nodeFlags: readonly string[] = [], timeoutMs = 30_000): Promise<S3backerMount> {
    cleanup.check();
    const mount = new S3backerMount(mountPoint, args, nodeFlags);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (mount.process.exitCode !== undefined) {
        await mount.release();
        throw new Error(`s3backer exited with ${mount.process.exitCode} before mounting:\n${mount.process.output}`);
      }
      if (await isMounted(mountPoint)) {
        mount.rssAtMountMiB = mount.process.rssMiB();
        return mount;
      }
      await sleep(50);
    }
    await mount.release();
    throw new Error(`s3backer did not mount ${mountPoint} within ${timeoutMs} ms:\n${mount.process.output}`);
  }

  async stats(): Promise<Counters> {
    return parseStats(await readFile(join(this.mountPoint, 'stats'), 'utf8'));
  }

  /** CPU seconds of the process so far (all threads). */
  cpuSeconds(): number {
    return this.process.cpuSeconds();
  }

  /** Peak RSS so far, MiB. */
  peakRssMiB(): number {
    return this.process.peakRssMiB();
  }

  /**
   * `umount` (retried while busy: a just-detached loop device lets go a moment later) and wait for
   * s3backer to finish its shutdown and exit; rejects unless it exits 0.
   */
  async unmount(timeoutMs = 120_000): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      if (this.process.exitCode !== undefined || !(await isMounted(this.mountPoint))) break;
      const result = await runTracked('umount', [this.mountPoint], { forCleanup: true });
      if (result.code === 0) break;
      if (attempt >= 20 || !/busy/i.test(result.stderr)) throw new Error(`umount ${this.mountPoint} failed: ${result.stderr.trim()}`);
      await sleep(250);
    }
    const code = await this.process.waitForExit(timeoutMs);
    if (code !== 0) throw new Error(`s3backer (PID ${this.pid}) exited with ${code ?? 'a signal'} after unmount:\n${this.process.output}`);
  }

  /** Last resort: SIGKILL by PID and detach the mount lazily. */
  private async kill(): Promise<void> {
    await this.process.kill();
    if (await isMounted(this.mountPoint)) await runTracked('umount', ['-l', this.mountPoint], { forCleanup: true }).catch(() => undefined);
  }
}
