// Types of the vendored fuse-native 2.2.6 (vendor/fuse-native, which ships none): the part s3backer uses.
declare module 's3backer-vendored-fuse-native' {
  type Callback<T = void> = T extends void ? (code: number) => void : (code: number, value?: T) => void;
  export interface FuseStat {
    mode: number; uid: number; gid: number; size: number; nlink: number; blksize?: number; blocks?: number;
    atime: Date; mtime: Date; ctime: Date; ino?: number;
  }
  export interface FuseStatfs {
    bsize: number; frsize: number; blocks: number; bfree: number; bavail: number; files: number; ffree: number; favail: number; namemax: number;
  }
  export interface FuseOperations {
    init?(cb: Callback): void;
    getattr?(path: string, cb: Callback<FuseStat>): void;
    fgetattr?(path: string, fd: number, cb: Callback<FuseStat>): void;
    readdir?(path: string, cb: Callback<string[]>): void;
    open?(path: string, flags: number, cb: Callback<number>): void;
    release?(path: string, fd: number, cb: Callback): void;
    /** cb(bytes) on success, cb(-errno) on failure. */
    read?(path: string, fd: number, buffer: Buffer, length: number, position: number, cb: (result: number) => void): void;
    write?(path: string, fd: number, buffer: Buffer, length: number, position: number, cb: (result: number) => void): void;
    flush?(path: string, fd: number, cb: Callback): void;
    fsync?(path: string, datasync: boolean, fd: number, cb: Callback): void;
    truncate?(path: string, size: number, cb: Callback): void;
    ftruncate?(path: string, fd: number, size: number, cb: Callback): void;
    unlink?(path: string, cb: Callback): void;
    utimens?(path: string, atime: Date, mtime: Date, cb: Callback): void;
    statfs?(path: string, cb: Callback<FuseStatfs>): void;
    /** Added by the vendored copy: fallocate(2) on a file (mode: FALLOC_FL_* bits). */
    fallocate?(path: string, fd: number, mode: number, offset: number, length: number, cb: Callback): void;
  }
  export interface FuseOptions {
    force?: boolean; mkdir?: boolean; timeout?: number | false; debug?: boolean;
    allowOther?: boolean; defaultPermissions?: boolean; fsname?: string; subtype?: string;
    /**
     * Added by the vendored copy: called once, on the main thread, when the FUSE loop has ended
     * (the kernel closed the connection: the mount is gone and its last open file released, or it
     * was aborted). The mount no longer keeps the process alive after it.
     */
    onLoopEnded?: () => void;
  }
  class Fuse {
    constructor(mountPoint: string, ops: FuseOperations, options?: FuseOptions);
    mount(cb: (error: Error | null) => void): void;
    /** Lazy (`fusermount -uz`): detaches the mount at once, even while its files are open. */
    unmount(cb: (error: Error | null) => void): void;
    protected _fuseOptions(): string;
    static unmount(mountPoint: string, cb: (error: Error | null) => void): void;
  }
  export default Fuse;
}
