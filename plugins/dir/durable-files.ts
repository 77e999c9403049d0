import { randomBytes } from 'node:crypto';
import { dirname, sep } from 'node:path';
import { DirectorySync } from './directory-sync.js';
import { nodeFsOps, type FileOps, type FsOps } from './fs-ops.js';

/**
 * Temp names are the C tool's `mkstemp("<path>.XXXXXX")` (the C tool's test_io.c, `test_io_write_block`), so
 * leftovers of either tool after a crash look alike and listings skip both.
 */
export const TEMP_NAME_PATTERN = /\.[A-Za-z0-9]{6}$/;

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function tempPath(path: string): string {
  const bytes = randomBytes(6);
  let suffix = '';
  for (const byte of bytes) suffix += ALPHABET[byte % ALPHABET.length];
  return `${path}.${suffix}`;
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * Files under `root` whose every change is on disk when the call returns, and atomic: a reader,
 * or the disk after a crash, shows the old file or the whole new one.
 *
 * A write is the C tool's test_io.c sequence (mkstemp, write, close, rename, unlink the temp file
 * on failure) plus what it leaves out: fsync of the temp file before the rename (else a crash can
 * leave the new name on an empty or partial file) and fsync of the directory after it (else the
 * rename itself can be lost, bringing back the old block after we acknowledged the new one).
 */
export class DurableFiles {
  private readonly directories: DirectorySync;

  constructor(private readonly root: string, private readonly fs: FsOps = nodeFsOps) {
    this.directories = new DirectorySync(fs);
  }

  /**
   * Replace (or, with `exclusive`, create) `path`, creating missing parent directories. Exclusive
   * creation is `link(temp, path)`, which fails with EEXIST when `path` exists, in one system call
   * (no check-then-rename race). Any failure before the new name exists removes the temp file and
   * rethrows the original error.
   */
  async write(path: string, data: Buffer | string, options: { exclusive?: boolean } = {}): Promise<void> {
    const temp = await this.writeTemp(path, data);
    try {
      if (options.exclusive) await this.fs.link(temp, path);
      else await this.fs.rename(temp, path);
    } catch (error) {
      await this.discard(temp);
      throw error;
    }
    // The object exists under its name from here on; for a link the temp name is only a second
    // name of the same file, removed before the directory fsync so that one fsync covers both.
    if (options.exclusive) await this.fs.unlink(temp);
    await this.directories.sync(dirname(path));
  }

  /**
   * unlink, then fsync the directory. "Already gone" succeeds, but still syncs the directory
   * (cheap when clean): the unlink that removed it may be ours from a call whose fsync failed,
   * and this call must not acknowledge an absence a crash could undo.
   */
  async remove(path: string): Promise<void> {
    try {
      await this.fs.unlink(path);
    } catch (error) {
      const code = errorCode(error);
      // ENOTDIR: a parent is a file; EISDIR: the name is a directory of longer keys. Neither is an
      // object and nothing changed.
      if (code === 'ENOTDIR' || code === 'EISDIR') return;
      if (code !== 'ENOENT') throw error;
    }
    try {
      await this.directories.sync(dirname(path));
    } catch (error) {
      // No directory: no entry in it to make durable.
      const code = errorCode(error);
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
    }
  }

  /** A fresh temp file next to `path` holding `data`, fsync'd and closed. */
  private async writeTemp(path: string, data: Buffer | string): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      const temp = tempPath(path);
      let file: FileOps;
      try {
        // 0600 like mkstemp; 'wx' so two writers never share a temp file.
        file = await this.fs.open(temp, 'wx', 0o600);
      } catch (error) {
        const code = errorCode(error);
        if (code === 'ENOENT' && attempt === 0) {
          // Keys with '/' live in subdirectories, made on first use.
          await this.makeDirectories(dirname(path));
          continue;
        }
        if (code === 'EEXIST' && attempt < 8) continue;
        throw error;
      }
      try {
        await file.writeFile(data);
        // fsync, not fdatasync: the file's size must be durable too, or a crash after the rename
        // could show the right name on a short file.
        await file.sync();
      } catch (error) {
        // ENOSPC usually lands here, after open() created the file: test_io.c unlinks too.
        await file.close().catch(() => {});
        await this.discard(temp);
        throw error;
      }
      try {
        // close can report a deferred write error (NFS); then the data is not known to be stored.
        await file.close();
      } catch (error) {
        await this.discard(temp);
        throw error;
      }
      return temp;
    }
  }

  /**
   * mkdir -p, then fsync the parent of every level between `directory` and the root: a new
   * directory is reachable after a crash only once its parent is synced. Every level, not just
   * the ones this call created: a concurrent write into the same new directory may have created
   * it and still be syncing. It runs only when the directory was missing, so once per directory.
   */
  private async makeDirectories(directory: string): Promise<void> {
    await this.fs.mkdir(directory, { recursive: true });
    const inside = this.root.endsWith(sep) ? this.root : this.root + sep;
    for (let level = directory; level.startsWith(inside); level = dirname(level)) {
      await this.directories.sync(dirname(level));
    }
  }

  /**
   * Remove a temp file on a failure path. Its own failure is dropped so the caller sees the error
   * that caused the failure; a temp file that stays is skipped by list() (and by the C tool).
   */
  private async discard(temp: string): Promise<void> {
    await this.fs.unlink(temp).catch(() => {});
  }
}
