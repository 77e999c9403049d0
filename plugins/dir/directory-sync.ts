import type { FsOps } from './fs-ops.js';

interface Queue {
  /** The fsync in progress: it may have started before a caller's rename, so it does not cover it. */
  running?: Promise<void>;
  /** The fsync that starts when `running` settles: it covers every rename made before it starts. */
  waiting?: Promise<void>;
}

const ignore = () => {};

/**
 * fsync(2) of directories, which is what makes a rename, link or unlink survive a power cut (the
 * file's own fsync covers its data, not its name). The C tool's test_io.c never does this: it
 * write()s, close()s and rename()s, so after a crash an acknowledged block can be missing, empty or
 * old. We fsync on purpose.
 *
 * Group commit per directory: one fsync covers every change made in the directory before it
 * started. A caller arriving while an fsync runs cannot use it (its rename may have come too late)
 * and waits for the next one, which all such callers share. So at most one fsync per directory is
 * in flight and one more queued, however many blocks are written in parallel.
 */
export class DirectorySync {
  private readonly queues = new Map<string, Queue>();

  constructor(private readonly fs: FsOps) {}

  /** Resolves once an fsync of `directory` that began after this call has succeeded; rejects with its error. */
  sync(directory: string): Promise<void> {
    let queue = this.queues.get(directory);
    if (!queue) this.queues.set(directory, (queue = {}));
    // A queued fsync has not started yet, so it covers this caller too.
    if (queue.waiting) return queue.waiting;
    if (!queue.running) return this.start(directory, queue);
    const owner = queue;
    owner.waiting = owner.running!.then(ignore, ignore).then(() => {
      owner.waiting = undefined;
      return this.start(directory, owner);
    });
    return owner.waiting;
  }

  private start(directory: string, queue: Queue): Promise<void> {
    const run = this.fsyncDirectory(directory);
    queue.running = run;
    const settle = () => {
      if (queue.running === run) queue.running = undefined;
      // Forget idle directories, so the map holds only the ones being synced.
      if (!queue.running && !queue.waiting && this.queues.get(directory) === queue) this.queues.delete(directory);
    };
    run.then(settle, settle);
    return run;
  }

  /** Open read-only and fsync the handle: the portable way to sync a directory on Linux. */
  private async fsyncDirectory(directory: string): Promise<void> {
    const handle = await this.fs.open(directory, 'r');
    try {
      await handle.sync();
    } catch (error) {
      await handle.close().catch(ignore);
      throw error;
    }
    await handle.close();
  }
}
