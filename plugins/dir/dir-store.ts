import { createHash } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { KeyedMutex, PreconditionFailedError, S3BackerError, closedStoreError, type ListOptions, type ObjectInfo, type ObjectStore, type PutOptions, type StoredObject } from 's3backer';
import { TEMP_NAME_PATTERN, DurableFiles } from './durable-files.js';
import { nodeFsOps, type FsOps } from './fs-ops.js';
import { SIDECAR_DIR, readSidecar, formatSidecar, type Sidecar, type SidecarEntry } from './object-sidecar.js';

export interface DirStoreOptions {
  /** The directory (the `--test` "bucket"); must exist. Relative paths resolve against the current directory. */
  directory: string;
  /**
   * A Content-Type that is not recorded: objects put with it (or with none) get no sidecar for it,
   * and objects without a recorded type read back with it (S3 likewise reports a default type).
   * The plugin uses the C tool's block type, so plain data blocks stay bare files as C writes them.
   */
  defaultContentType?: string;
  /** The calls that change the disk (for tests that record or fail them); node's by default. */
  fs?: FsOps;
}

/**
 * One file per object at `<dir>/<key>`, exactly the C tool's `--test` layout (test_io.c):
 * raw bodies, written to `<path>.XXXXXX` and renamed into place, a missing file reads as
 * missing. Unlike the C tool's test_io.c, a put or delete returns only once it is on disk (file
 * and directory fsync'd, see DurableFiles), as a store must before a block is acknowledged. What
 * S3 would keep beside the body (metadata, Content-Encoding, Content-Type) goes to a sidecar
 * `<dir>/.s3backer-meta/<key>.json` only when there is any, so a C-written directory (no
 * sidecars) reads fine and plain blocks written here stay readable by the C tool.
 */
export class DirStore implements ObjectStore {
  readonly kind = 'dir';
  readonly supports = { conditionalPut: true, metadata: true };
  readonly description: string;
  readonly root: string;
  private readonly defaultContentType: string | undefined;
  // An object is two files (body and metadata sidecar) that a reader must see from the same write.
  private readonly locks = new KeyedMutex<string>();
  private readonly files: DurableFiles;
  private closed = false;

  constructor(options: DirStoreOptions) {
    this.root = resolve(options.directory);
    this.description = `file://${this.root}/`;
    this.defaultContentType = options.defaultContentType;
    this.files = new DurableFiles(this.root, options.fs ?? nodeFsOps);
  }

  async open(): Promise<void> {
    this.check();
    let isDirectory: boolean;
    try {
      isDirectory = (await stat(this.root)).isDirectory();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw this.ioError('open', this.root, error);
      isDirectory = false;
    }
    if (!isDirectory) {
      throw new S3BackerError('S3B_BUCKET_NOT_FOUND',
        `directory ${this.root} does not exist or is not a directory; create it (mkdir -p ${this.root}) or give the right directory as the bucket argument of --store=dir / --test`);
    }
  }

  async get(key: string): Promise<StoredObject | null> {
    this.check();
    const path = this.pathOf(key);
    return this.locks.run(key, async () => {
      const body = await this.readBody('GET', key, path);
      if (!body) return null;
      return { ...(await this.info(key, body)), body };
    });
  }

  async head(key: string): Promise<ObjectInfo | null> {
    this.check();
    const path = this.pathOf(key);
    return this.locks.run(key, async () => {
      // The ETag is the MD5 of the body, so HEAD reads it too (blocks are small; C-written files
      // have nothing else to go by).
      const body = await this.readBody('HEAD', key, path);
      return body ? this.info(key, body) : null;
    });
  }

  /**
   * A body finds its metadata by its own MD5 in the sidecar, so the two files never need to change
   * together; they change in three steps, each durable (fsync'd file, rename, fsync'd directory)
   * before the next begins, and every state in between reads right:
   *
   *  1. The sidecar gets the new body's entry (or, for a put without metadata, loses a stale entry
   *     under the new body's MD5, such as one a crashed delete left), keeping the old body's entry.
   *     The old body still reads with its own metadata.
   *  2. The body is renamed into place. It finds its own entry, or none; the old entry describes
   *     another MD5 and is ignored.
   *  3. The sidecar drops the other entries.
   *
   * Without the barrier after step 1, a crash could keep the new body and lose its entry (a
   * deflated block read as raw, a block 0 without its size); without the one after step 2, it
   * could keep the old body and lose its entry. When old and new bodies have the same MD5, step 1
   * already gives those identical bytes the new metadata: that is the new object, merely visible
   * before the put returns, as with S3.
   */
  async put(key: string, body: Buffer, options: PutOptions = {}): Promise<{ etag: string }> {
    this.check();
    const path = this.pathOf(key);
    const sidecarPath = this.sidecarPathOf(key);
    const exclusive = options.ifNoneMatch === '*';
    return this.locks.run(key, async () => {
      // Cheap early answer; the link() below is what makes creation atomic.
      if (exclusive && (await isFile(path))) throw new PreconditionFailedError(key);
      const md5 = md5Hex(body);
      const entry = this.entryFor(options);
      const previous = await this.readSidecarOf('PUT', key, sidecarPath);
      const before = previous?.sidecar.entries ?? {};
      const during = { ...before };
      if (entry) during[md5] = entry;
      else delete during[md5];
      // Step 1 runs even when the sidecar seems to hold the entry already: what we read may be a
      // write whose fsync failed, not what is on disk.
      const stepOne = entry !== undefined || md5 in before;
      try {
        if (stepOne) await this.writeSidecar(sidecarPath, during);
        try {
          await this.files.write(path, body, { exclusive });
        } catch (error) {
          if (!(exclusive && (error as NodeJS.ErrnoException).code === 'EEXIST')) throw error;
          // Lost a creation race (another process): put the sidecar back as it was.
          if (stepOne) await (previous ? this.files.write(sidecarPath, previous.text) : this.files.remove(sidecarPath));
          throw new PreconditionFailedError(key);
        }
        if (Object.keys(during).some((name) => name !== md5)) {
          await this.writeSidecar(sidecarPath, entry ? { [md5]: entry } : {});
        }
      } catch (error) {
        if (error instanceof PreconditionFailedError || error instanceof S3BackerError) throw error;
        throw this.ioError('PUT', key, error);
      }
      return { etag: `"${md5}"` };
    });
  }

  async delete(key: string): Promise<void> {
    this.check();
    const path = this.pathOf(key);
    const sidecarPath = this.sidecarPathOf(key);
    await this.locks.run(key, async () => {
      try {
        // Body first, durably: the other order could, after a crash, keep the body and lose its
        // entry. This one at worst leaves an orphan sidecar, which describes no body (and step 1
        // of a later put of a body with the same MD5 clears its entry first).
        await this.files.remove(path);
        await this.files.remove(sidecarPath);
      } catch (error) {
        throw this.ioError('DELETE', key, error);
      }
    });
  }

  /**
   * Walks the tree in key order without collecting it: each directory's entries sort by their
   * name, with a `/` appended for subdirectories, which is exactly where their keys sort among
   * the siblings. Subtrees outside the prefix or wholly before startAfter are not read.
   */
  async *list(options: ListOptions = {}): AsyncIterable<string> {
    this.check();
    yield* this.walk(this.root, '', options.prefix ?? '', options.startAfter);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private async *walk(directory: string, keyPrefix: string, prefix: string, startAfter: string | undefined): AsyncGenerator<string> {
    this.check();
    let entries;
    try {
      entries = await readdir(directory, { withFileTypes: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (keyPrefix !== '' && (code === 'ENOENT' || code === 'ENOTDIR')) return;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        throw new S3BackerError('S3B_BUCKET_NOT_FOUND', `directory ${this.root} does not exist; create it or check the bucket argument`, { cause: error });
      }
      throw this.ioError('LIST', keyPrefix || '/', error);
    }
    const items = entries
      .filter((entry) => entry.isDirectory() ? !(keyPrefix === '' && entry.name === SIDECAR_DIR) : entry.isFile() && !TEMP_NAME_PATTERN.test(entry.name))
      .map((entry) => ({ name: entry.name, isDirectory: entry.isDirectory(), sortKey: keyPrefix + entry.name + (entry.isDirectory() ? '/' : '') }))
      .sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0));
    for (const item of items) {
      const key = item.sortKey;
      if (item.isDirectory) {
        if (!key.startsWith(prefix) && !prefix.startsWith(key)) continue;
        if (startAfter !== undefined && key < startAfter && !startAfter.startsWith(key)) continue;
        yield* this.walk(join(directory, item.name), key, prefix, startAfter);
      } else if (key.startsWith(prefix) && (startAfter === undefined || key > startAfter)) {
        yield key;
      }
    }
  }

  /** The sidecar holding `entries`; none at all when there are none. */
  private async writeSidecar(path: string, entries: Record<string, SidecarEntry>): Promise<void> {
    if (Object.keys(entries).length === 0) await this.files.remove(path);
    else await this.files.write(path, formatSidecar({ version: 1, entries }));
  }

  private entryFor(options: PutOptions): SidecarEntry | undefined {
    const metadata = options.metadata ?? {};
    const contentType = options.contentType && options.contentType !== this.defaultContentType ? options.contentType : undefined;
    if (Object.keys(metadata).length === 0 && !options.contentEncoding && !contentType) return undefined;
    const lowerCased: Record<string, string> = {};
    for (const [name, value] of Object.entries(metadata)) lowerCased[name.toLowerCase()] = value;
    return {
      metadata: lowerCased,
      ...(options.contentEncoding ? { contentEncoding: options.contentEncoding } : {}),
      ...(contentType ? { contentType } : {}),
    };
  }

  private async info(key: string, body: Buffer): Promise<ObjectInfo> {
    const md5 = md5Hex(body);
    const entry = (await this.readSidecarOf('GET', key, this.sidecarPathOf(key)))?.sidecar.entries[md5];
    const contentType = entry?.contentType ?? this.defaultContentType;
    return {
      etag: `"${md5}"`,
      size: body.length,
      metadata: { ...entry?.metadata },
      ...(entry?.contentEncoding ? { contentEncoding: entry.contentEncoding } : {}),
      ...(contentType ? { contentType } : {}),
    };
  }

  private async readBody(method: string, key: string, path: string): Promise<Buffer | null> {
    try {
      return await readFile(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // ENOTDIR: a parent is a file; EISDIR: the name is a directory of longer keys. No such object.
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return null;
      throw this.ioError(method, key, error);
    }
  }

  private async readSidecarOf(method: string, key: string, path: string): Promise<{ text: string; sidecar: Sidecar } | undefined> {
    try {
      return await readSidecar(path);
    } catch (error) {
      if (error instanceof SyntaxError) {
        throw new S3BackerError('S3B_BACKEND_IO',
          `${method} ${key}: the metadata file ${path} is damaged (${error.message}); delete it (the object then reads without metadata) or restore it`, { cause: error });
      }
      throw this.ioError(method, key, error);
    }
  }

  /** `<root>/<key>`, refusing names that cannot be one file of this layout. */
  private pathOf(key: string): string {
    return join(this.root, ...this.segments(key));
  }

  private sidecarPathOf(key: string): string {
    return join(this.root, SIDECAR_DIR, ...this.segments(key)) + '.json';
  }

  private segments(key: string): string[] {
    const segments = key.split('/');
    const last = segments[segments.length - 1]!;
    let reason: string | undefined;
    if (key === '' || key.includes('\0')) reason = 'it is empty or contains a NUL byte';
    else if (segments.some((segment) => segment === '' || segment === '.' || segment === '..')) reason = 'it has an empty, "." or ".." path segment';
    else if (segments[0] === SIDECAR_DIR) reason = `"${SIDECAR_DIR}" is where metadata is kept`;
    else if (TEMP_NAME_PATTERN.test(last)) reason = 'it ends like a temporary file (".XXXXXX")';
    if (reason) {
      throw new S3BackerError('S3B_CONFIG_INVALID',
        `object name "${key}" cannot be stored under ${this.description}: ${reason}; use a --prefix of plain path segments such as "vol1/"`);
    }
    return segments;
  }

  private ioError(method: string, key: string, cause: unknown): S3BackerError {
    const code = (cause as NodeJS.ErrnoException | undefined)?.code;
    const reason = cause instanceof Error ? cause.message : String(cause);
    return new S3BackerError('S3B_BACKEND_IO',
      `${method} ${key} in ${this.description} failed: ${reason}; ${code === 'ENOSPC' ? 'free some space on that file system' : 'check the directory\'s permissions and file system'}`, { cause });
  }

  private check(): void {
    if (this.closed) throw closedStoreError(this.kind);
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

function md5Hex(body: Buffer): string {
  return createHash('md5').update(body).digest('hex');
}
