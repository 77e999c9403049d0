// Everything the benchmark sets up (mounts, loop devices, processes, temp files) is registered
// here as it is made, and undone in reverse order: by the `finally` that owns it, or, after SIGINT
// or SIGTERM, by the signal handler, which first stops the commands in flight so nothing still
// uses a mount it is about to take down. A second signal exits at once.
import type { ChildProcess } from 'node:child_process';

interface Item {
  label: string;
  undo: () => Promise<void>;
  done?: Promise<void>;
}

export class CleanupStack {
  private readonly items: Item[] = [];
  private readonly children = new Set<ChildProcess>();
  private interruptedBy: NodeJS.Signals | undefined;

  get interrupted(): boolean {
    return this.interruptedBy !== undefined;
  }

  /**
   * Register an undo step; returns the function that runs it (once; later calls wait for the same
   * run). After an interrupt, steps registered late are still run by the handler's loop.
   */
  defer(label: string, undo: () => Promise<void>): () => Promise<void> {
    const item: Item = { label, undo };
    this.items.push(item);
    return () => this.run(item);
  }

  /** A command in flight (spawned `detached`: its own process group), killed with its group when the run is interrupted. */
  track(child: ChildProcess): void {
    if (this.interrupted) {
      killGroup(child);
      return;
    }
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
  }

  /** Throw if interrupted: called between steps so the main flow stops starting new work. */
  check(): void {
    if (this.interruptedBy) throw new Error(`interrupted by ${this.interruptedBy}`);
  }

  installSignalHandlers(): void {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.on(signal, () => {
        if (this.interruptedBy) {
          console.error(`\n${signal} again: exiting without finishing the cleanup; left: ${this.items.map((item) => item.label).join(', ') || 'nothing'}`);
          process.exit(130);
        }
        this.interruptedBy = signal;
        console.error(`\n${signal}: stopping commands in flight and cleaning up (${signal} again to exit at once)`);
        void this.unwind().finally(() => process.exit(130));
      });
    }
  }

  /** Undo everything still registered, newest first. */
  async unwind(): Promise<void> {
    for (const child of this.children) killGroup(child);
    for (;;) {
      const item = [...this.items].reverse().find((candidate) => candidate.done === undefined) ?? this.items[this.items.length - 1];
      if (!item) return;
      await this.run(item);
    }
  }

  private run(item: Item): Promise<void> {
    item.done ??= (async () => {
      try {
        await item.undo();
      } catch (error) {
        console.error(`cleanup: ${item.label} failed: ${error instanceof Error ? error.message : String(error)}`);
      } finally {
        const index = this.items.indexOf(item);
        if (index >= 0) this.items.splice(index, 1);
      }
    })();
    return item.done;
  }
}

export const cleanup = new CleanupStack();

/** SIGKILL a detached child's whole process group (by its PID, which is the group's id); the child alone if that fails. */
export function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}
