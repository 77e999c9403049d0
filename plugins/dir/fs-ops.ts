import { link, mkdir, open, rename, unlink } from 'node:fs/promises';

/** The calls made on one open file: the subset of node's FileHandle the write path uses. */
export interface FileOps {
  writeFile(data: Buffer | string): Promise<void>;
  /** fsync(2): the data and the size/metadata, not just fdatasync's data. */
  sync(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The file-system calls through which the dir store changes the disk (reads go straight to
 * node). Production uses node's; a test passes a wrapper that records or fails calls, so the
 * durability order (write → fsync file → rename → fsync directory) is checked without a power cut.
 */
export interface FsOps {
  /** 'wx' creates a temp file (O_CREAT|O_EXCL); 'r' opens a directory read-only to fsync it. */
  open(path: string, flags: 'wx' | 'r', mode?: number): Promise<FileOps>;
  rename(oldPath: string, newPath: string): Promise<void>;
  link(existingPath: string, newPath: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** Returns the first directory it created, undefined when all existed (node's recursive mkdir). */
  mkdir(path: string, options: { recursive: true }): Promise<string | undefined>;
}

export const nodeFsOps: FsOps = {
  open: (path, flags, mode) => open(path, flags, mode),
  rename: (oldPath, newPath) => rename(oldPath, newPath),
  link: (existingPath, newPath) => link(existingPath, newPath),
  unlink: (path) => unlink(path),
  mkdir: (path, options) => mkdir(path, options),
};
