import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, stat, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { BlockDevice } from '../../engine/block-device.js';
import type { Logger } from '../../engine/logger.js';
import { S3BackerError } from '../../errors/s3backer-error.js';
import type { Frontend, StopRequest } from '../frontend.js';
import { NbdFrontend } from '../nbd/nbd-frontend.js';
import { blockDeviceClaimed } from './block-device-claim.js';

export interface KernelNbdOptions {
  /** `/dev/nbdX`. */
  device: string;
  readOnly: boolean;
  exportName: string;
  log: Logger;
  /** Where the private socket goes: `$S3B_NBD_DIR`, default /run/s3backer-nbd (the C tool's main.c). */
  socketDirectory?: string;
  /** The nbd-client program (a test may give a path). */
  nbdClient?: string;
}

/** How long nbd-client may take to attach the device (the C tool waits 5 s for the socket alone). */
const ATTACH_TIMEOUT_MS = 15_000;

/**
 * The C tool's `s3backer --nbd … bucket /dev/nbdX` (main.c): serve the export on a private Unix
 * socket and attach the kernel's NBD device to it with `nbd-client`, so the disk is a block device.
 * The C tool runs nbdkit with its plugin for the serving; ours serves it in this process.
 *
 * Stopping: the export ends when the kernel disconnects (`nbd-client -d /dev/nbdX` by anyone), and
 * on SIGTERM/SIGINT we run that disconnect ourselves, but only while nothing claims the device: a
 * mounted file system on it still has unwritten data in the page cache, which a disconnect would
 * lose (the C tool disconnects whatever is mounted). Until then we serve and ask again.
 */
export class KernelNbdFrontend implements Frontend {
  readonly description: string;
  private readonly server: NbdFrontend;
  private readonly socketPath: string;
  private client: ChildProcess | undefined;
  private clientExited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> | undefined;
  readonly closed: Promise<void>;

  constructor(private readonly options: KernelNbdOptions) {
    this.description = options.device;
    const directory = options.socketDirectory ?? process.env.S3B_NBD_DIR ?? '/run/s3backer-nbd';
    this.socketPath = join(directory, `${basename(options.device)}.sock`);
    this.server = new NbdFrontend({
      listen: `unix:${this.socketPath}`, exportName: options.exportName, readOnly: options.readOnly, once: true, log: options.log,
    });
    this.closed = this.server.closed.finally(() => unlink(this.socketPath).catch(() => undefined));
  }

  async start(device: BlockDevice): Promise<void> {
    await checkNbdDevice(this.options.device);
    await mkdir(join(this.socketPath, '..'), { recursive: true, mode: 0o700 });
    await this.server.start(device);
    const args = ['-unix', this.socketPath, '-block-size', '4096', '-nofork', ...(this.options.readOnly ? ['-readonly'] : []), this.options.device];
    const client = spawn(this.options.nbdClient ?? 'nbd-client', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.client = client;
    let stderr = '';
    client.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    this.clientExited = new Promise((resolve) => {
      client.once('error', (error) => resolve({ code: 127, signal: null, stderr: error.message }));
      client.once('exit', (code, signal) => resolve({ code, signal, stderr }));
    });
    // nbd-client -nofork stays attached for the life of the connection; an early exit is a failure.
    void this.clientExited.then(({ code, signal, stderr: text }) => {
      this.client = undefined;
      if (code !== 0) this.options.log.warn(`nbd-client for ${this.options.device} exited with ${code ?? signal}${text.trim() ? `: ${text.trim()}` : ''}`);
      // Whatever ended it, the kernel side is gone: stop serving (once:true also ends on its own).
      void this.server.requestStop('nbd-client exited');
    });
    const attached = await Promise.race([
      waitForAttachment(this.options.device, ATTACH_TIMEOUT_MS).then(() => true),
      this.clientExited.then(() => false),
    ]);
    if (!attached) {
      const { code, signal, stderr: text } = await this.clientExited;
      throw new S3BackerError('S3B_NBD_DEVICE', `nbd-client could not attach ${this.options.device} (exit ${code ?? signal})${text.trim() ? `: ${text.trim()}` : ''}; check that the nbd module is loaded (modprobe nbd) and the device is free`);
    }
    this.options.log.info(`attached ${this.options.device} to ${this.socketPath}`);
  }

  async requestStop(why?: string): Promise<StopRequest> {
    if (this.client === undefined) return this.server.requestStop(why ?? 'stop');
    if (await blockDeviceClaimed(this.options.device)) {
      return { outcome: 'busy', message: `${this.options.device} is still in use (mounted, or held by LVM/md/swap; see lsblk ${this.options.device}); unmount it first; serving until it is released` };
    }
    const failure = await new Promise<string | undefined>((resolve) => {
      execFile(this.options.nbdClient ?? 'nbd-client', ['-d', this.options.device], (error, _stdout, stderr) => resolve(error ? (String(stderr).trim() || error.message) : undefined));
    });
    if (failure !== undefined) return { outcome: 'busy', message: `nbd-client -d ${this.options.device} failed: ${failure}; retrying every second` };
    return { outcome: 'stopping', message: `${why ?? 'stop'}: detached ${this.options.device}` };
  }
}

/** The device must exist (the C tool runs `modprobe nbd` first, and so do we) and be a block device. */
async function checkNbdDevice(path: string): Promise<void> {
  let info = await stat(path).catch(() => undefined);
  if (info === undefined && /^\/dev\/nbd\d+$/.test(path)) {
    await new Promise<void>((resolve) => execFile('modprobe', ['nbd'], () => resolve()));
    info = await stat(path).catch(() => undefined);
  }
  if (info === undefined) {
    throw new S3BackerError('S3B_NBD_DEVICE', `${path} does not exist: this kernel has no NBD devices (modprobe nbd failed or is not allowed here, e.g. in a container); serve with --nbd-listen=unix:/path.sock and connect a user-space client (qemu, nbdcopy) instead`);
  }
  if (!info.isBlockDevice()) throw new S3BackerError('S3B_NBD_DEVICE', `${path} is not a block device; give /dev/nbdX`);
}

/** The kernel shows the attached connection's size in /sys/block/nbdX/size (512-byte sectors), 0 while detached. */
async function waitForAttachment(device: string, timeoutMs: number): Promise<void> {
  const sizeFile = `/sys/block/${basename(device)}/size`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const sectors = Number((await readFile(sizeFile, 'utf8').catch(() => '0')).trim());
    if (sectors > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new S3BackerError('S3B_NBD_DEVICE', `${device} was not attached within ${timeoutMs / 1000} s`);
}
