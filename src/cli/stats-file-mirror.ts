import { access, rename, writeFile } from 'node:fs/promises';
import type { Logger } from '../engine/logger.js';

export interface StatsFileMirrorOptions {
  path: string;
  intervalMs: number;
  /** The stats text, as the stats file shows it. */
  render: () => string;
  /** Reset the counters: deleting the mirror file does, as unlinking the stats file does. */
  reset: () => void;
  log: Logger;
}

/**
 * `--statsFileMirror=PATH`: the stats file's text written to a regular file every
 * `--statsFileMirrorInterval` ms, as the C tool's fuse_ops.c mirror thread does: to `PATH.new`, then
 * renamed over `PATH`, so a reader never sees half a file. For monitoring without reading inside
 * the mount (and for an NBD export, which has no stats file). Deleting the file resets the
 * counters, as in the C tool. A failed write is logged once per run of failures, never fatal.
 * `stop()` writes the last figures.
 */
export function startStatsFileMirror(options: StatsFileMirrorOptions): { stop(): Promise<void> } {
  const temporary = `${options.path}.new`;
  let failing = false;
  let written = false;
  let running: Promise<void> = Promise.resolve();
  const writeOnce = async () => {
    try {
      if (written && !(await access(options.path).then(() => true, () => false))) options.reset();
      await writeFile(temporary, options.render());
      await rename(temporary, options.path);
      written = true;
      if (failing) options.log.info(`stats mirror ${options.path}: writing again`);
      failing = false;
    } catch (error) {
      if (!failing) options.log.warn(`stats mirror ${options.path}: ${error instanceof Error ? error.message : String(error)}`);
      failing = true;
    }
  };
  const timer = setInterval(() => { running = running.then(writeOnce); }, options.intervalMs);
  timer.unref();
  running = writeOnce();
  return {
    async stop() {
      clearInterval(timer);
      await running;
      await writeOnce();
    },
  };
}
