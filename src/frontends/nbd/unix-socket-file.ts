import { lstat, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { S3BackerError } from '../../errors/s3backer-error.js';

/** Whether a server accepts connections on the Unix socket at `path`. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => { probe.destroy(); resolve(true); });
    // ECONNREFUSED: a socket file nobody listens on (its server died).
    probe.once('error', () => { probe.destroy(); resolve(false); });
  });
}

/**
 * The socket file of a Unix-socket listener: a stale one (a server that died without removing it)
 * is removed before listening, but never a live one and never a file that is not a socket; ours
 * is removed when the server stops, unless another server has replaced it meanwhile.
 */
export class UnixSocketFile {
  /** Inode of the socket this server created, to recognise it at removal. */
  private inode: number | undefined;

  constructor(readonly path: string) {}

  /** Make room to listen at `path`. Throws S3B_CONFIG_INVALID when something else is there. */
  async clearStale(): Promise<void> {
    const stats = await lstat(this.path).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw new S3BackerError('S3B_CONFIG_INVALID', `cannot check the NBD socket path ${this.path}: ${error.message}`, { cause: error });
    });
    if (!stats) return;
    if (!stats.isSocket()) {
      throw new S3BackerError('S3B_CONFIG_INVALID', `${this.path} exists and is not a socket; refusing to replace it with the NBD socket, choose another path`);
    }
    if (await answers(this.path)) {
      throw new S3BackerError('S3B_CONFIG_INVALID', `another server is listening on ${this.path}; stop it or choose another NBD socket path`);
    }
    await unlink(this.path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw new S3BackerError('S3B_CONFIG_INVALID', `cannot remove the stale NBD socket ${this.path}: ${error.message}`, { cause: error });
    });
  }

  /** Remember the socket just created by listening. */
  async created(): Promise<void> {
    this.inode = (await lstat(this.path).catch(() => undefined))?.ino;
  }

  /** Remove our socket file, if it is still ours. Never throws: the server has stopped either way. */
  async remove(): Promise<string | undefined> {
    if (this.inode === undefined) return undefined;
    const stats = await lstat(this.path).catch(() => undefined);
    if (!stats || stats.ino !== this.inode || !stats.isSocket()) return undefined;
    return unlink(this.path).then(() => undefined, (error: NodeJS.ErrnoException) =>
      (error.code === 'ENOENT' ? undefined : `could not remove the NBD socket ${this.path}: ${error.message}`));
  }
}
