// One bin/s3backer serving an NBD export in the foreground (-f --nbd-listen=unix:SOCKET), the NBD
// counterpart of s3backer-mount.ts with the same surface (pid, stats, CPU, RSS, stop), so a
// BenchVolume measures it the same way. NBD has no stats file: the counters come from
// --statsFileMirror, rewritten every MIRROR_INTERVAL_MS and once more when s3backer stops.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cleanup } from './cleanup-stack.js';
import { parseStats, type Counters } from './s3backer-mount.js';
import { runTracked } from './run-tracked.js';
import { S3backerChild } from './s3backer-child.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const MIRROR_INTERVAL_MS = 20;

export class S3backerNbd {
  private readonly process: S3backerChild;
  rssAtMountMiB = NaN;
  readonly release: () => Promise<void>;
  private readonly socket: string;
  private readonly mirror: string;

  private constructor(readonly directory: string, args: readonly string[], nodeFlags: readonly string[]) {
    this.socket = join(directory, 'nbd.sock');
    this.mirror = join(directory, 'stats');
    this.process = new S3backerChild([`--nbd-listen=unix:${this.socket}`, `--statsFileMirror=${this.mirror}`,
      `--statsFileMirrorInterval=${MIRROR_INTERVAL_MS}`, ...args], nodeFlags);
    this.release = cleanup.defer(`stop the NBD export ${this.socket} (s3backer PID ${this.process.pid})`, async () => {
      if (this.process.exitCode === undefined) await this.unmount(cleanup.interrupted ? 5_000 : 120_000).catch(() => {});
      await this.process.kill();
    });
  }

  get pid(): number {
    return this.process.pid;
  }

  /** The export's URI: what nbdcopy reads and writes (the FUSE mount's disk file, for NBD). */
  get diskFile(): string {
    return `nbd+unix:///?socket=${this.socket}`;
  }

  /** Start serving; resolves once the export answers a handshake (nbdinfo). */
  static async start(directory: string, args: readonly string[], nodeFlags: readonly string[] = [], timeoutMs = 30_000): Promise<S3backerNbd> {
    cleanup.check();
    const nbd = new S3backerNbd(directory, args, nodeFlags);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (nbd.process.exitCode !== undefined) {
        await nbd.release();
        throw new Error(`s3backer exited with ${nbd.process.exitCode} before serving NBD:\n${nbd.process.output}`);
      }
      if ((await runTracked('nbdinfo', ['--size', nbd.diskFile])).code === 0) {
        nbd.rssAtMountMiB = nbd.process.rssMiB();
        return nbd;
      }
      await sleep(50);
    }
    await nbd.release();
    throw new Error(`s3backer did not serve ${nbd.diskFile} within ${timeoutMs} ms:\n${nbd.process.output}`);
  }

  /** The mirrored stats, read after a few mirror intervals so the step's last requests are in it. */
  async stats(): Promise<Counters> {
    await sleep(3 * MIRROR_INTERVAL_MS);
    return parseStats(await readFile(this.mirror, 'utf8').catch(() => ''));
  }

  cpuSeconds(): number {
    return this.process.cpuSeconds();
  }

  peakRssMiB(): number {
    return this.process.peakRssMiB();
  }

  /** SIGTERM: s3backer answers what is in flight, uploads, clears the flag and exits; rejects unless 0. */
  async unmount(timeoutMs = 120_000): Promise<void> {
    this.process.signal('SIGTERM');
    const code = await this.process.waitForExit(timeoutMs);
    if (code !== 0) throw new Error(`s3backer (PID ${this.pid}) exited with ${code ?? 'a signal'} after SIGTERM:\n${this.process.output}`);
  }
}
