// One bin/s3backer serving an NBD export in the foreground (-f --nbd-listen=unix:SOCKET), the NBD
// counterpart of s3backer-mount.ts with the same surface (pid, stats, CPU, RSS, stop), so a
// BenchVolume measures it the same way. NBD has no stats file: the counters come from
// --statsFileMirror, rewritten every MIRROR_INTERVAL_MS and once more when s3backer stops.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { S3BACKER_BIN } from '../../test/helpers/s3backer-process.js';
import { cleanup } from './cleanup-stack.js';
import { cpuSeconds, statusMiB } from './proc-stats.js';
import { parseStats, type Counters } from './s3backer-mount.js';
import { runTracked } from './run-tracked.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const MIRROR_INTERVAL_MS = 20;

export class S3backerNbd {
  private readonly child: ChildProcess;
  private output = '';
  private readonly exited: Promise<number | null>;
  private exitCode: number | null | undefined;
  rssAtMountMiB = NaN;
  readonly release: () => Promise<void>;
  private readonly socket: string;
  private readonly mirror: string;

  private constructor(readonly directory: string, args: readonly string[], nodeFlags: readonly string[]) {
    this.socket = join(directory, 'nbd.sock');
    this.mirror = join(directory, 'stats');
    this.child = spawn(process.execPath, [...nodeFlags, S3BACKER_BIN, '-f', `--nbd-listen=unix:${this.socket}`,
      `--statsFileMirror=${this.mirror}`, `--statsFileMirrorInterval=${MIRROR_INTERVAL_MS}`, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const keep = (chunk: Buffer) => { this.output = (this.output + chunk.toString()).slice(-16_384); };
    this.child.stdout!.on('data', keep);
    this.child.stderr!.on('data', keep);
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => {
      this.exitCode = code;
      resolve(code);
    }));
    this.release = cleanup.defer(`stop the NBD export ${this.socket} (s3backer PID ${this.child.pid})`, async () => {
      if (this.exitCode === undefined) await this.unmount(cleanup.interrupted ? 5_000 : 120_000).catch(() => {});
      if (this.exitCode === undefined) {
        this.child.kill('SIGKILL');
        await this.exited;
      }
    });
  }

  get pid(): number {
    return this.child.pid!;
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
      if (nbd.exitCode !== undefined) {
        await nbd.release();
        throw new Error(`s3backer exited with ${nbd.exitCode} before serving NBD:\n${nbd.output}`);
      }
      const probe = await runTracked('nbdinfo', ['--size', nbd.diskFile]);
      if (probe.code === 0) {
        nbd.rssAtMountMiB = statusMiB(nbd.pid, 'VmRSS') ?? NaN;
        return nbd;
      }
      await sleep(50);
    }
    await nbd.release();
    throw new Error(`s3backer did not serve ${nbd.diskFile} within ${timeoutMs} ms:\n${nbd.output}`);
  }

  /** The mirrored stats, read after one more mirror interval so the step's last requests are in it. */
  async stats(): Promise<Counters> {
    await sleep(3 * MIRROR_INTERVAL_MS);
    return parseStats(await readFile(this.mirror, 'utf8').catch(() => ''));
  }

  cpuSeconds(): number {
    return cpuSeconds(this.pid) ?? NaN;
  }

  peakRssMiB(): number {
    return statusMiB(this.pid, 'VmHWM') ?? NaN;
  }

  /** SIGTERM: s3backer answers what is in flight, uploads, clears the flag and exits; rejects unless 0. */
  async unmount(timeoutMs = 120_000): Promise<void> {
    if (this.exitCode === undefined) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const code = await this.exited.finally(() => clearTimeout(timer));
    if (code !== 0) throw new Error(`s3backer (PID ${this.pid}) exited with ${code ?? 'a signal'} after SIGTERM:\n${this.output}`);
  }
}
