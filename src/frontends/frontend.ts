import type { BlockDevice } from '../engine/block-device.js';

/** What became of a request to stop serving (`Frontend.requestStop`). */
export type StopRequest =
  /** The front end is ending: `closed` will settle once its clients have let go. `message` is for the log. */
  | { outcome: 'stopping'; message?: string }
  /**
   * It cannot stop yet without losing data (a loop device still holds the FUSE file, say):
   * `message` says why (logged by the caller when it is news); the caller keeps serving and asks
   * again a second later.
   */
  | { outcome: 'busy'; message: string };

/**
 * How the disk reaches its users: the FUSE file (src/frontends/fuse) or an NBD export
 * (src/frontends/nbd). One front-end-agnostic place (src/cli/serve-frontend.ts) owns startup,
 * background mode, signals, draining and exit codes; a front end only serves a BlockDevice.
 *
 * The rule every front end keeps: `closed` settles only when nothing can send it another request
 * (FUSE: the kernel's loop ended, the last open file released; NBD: the listener is closed and
 * every connection ended). The engine is shut down (drained, flushed, mounted flag cleared) only
 * after that, so no acknowledged write is lost and no request arrives on a closed engine.
 */
export interface Frontend {
  /** For log lines: the mount point, or the NBD address. */
  readonly description: string;
  /** Begin serving `device`; resolves once clients can use it (mounted, listening), rejects with a coded error. */
  start(device: BlockDevice): Promise<void>;
  /** Settles when the client side went away (see above). */
  readonly closed: Promise<void>;
  /**
   * SIGTERM/SIGINT: stop serving as soon as that loses nothing. `why` names the signal, for the
   * messages; it is undefined when the caller asks again after a `busy` answer.
   */
  requestStop(why?: string): Promise<StopRequest>;
}
