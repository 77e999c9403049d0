import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ResolvedConfig } from '../../config/resolved-config.js';
import { S3BackerError } from '../../errors/s3backer-error.js';
import { FuseFrontend } from '../../frontends/fuse/fuse-frontend.js';
import type { Engine } from '../../engine/engine.js';
import { createEngine } from '../run-engine.js';
import { switchableLogSink, backgroundLogNotice } from '../daemon-log-sink.js';
import { resolvePassword } from '../read-password.js';
import { startStatsFileMirror } from '../stats-file-mirror.js';

/** Set in the environment of the background child that serves the mount. */
const DAEMON_ENV = 'S3BACKER_DAEMON_CHILD';
/** Set when the parent sends the (prompted or file) password over IPC: never in argv or the environment. */
const PASSWORD_IPC_ENV = 'S3BACKER_PASSWORD_OVER_IPC';

async function checkMountPoint(mountPoint: string): Promise<string> {
  const path = resolve(mountPoint);
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    throw new S3BackerError('S3B_MOUNT_POINT', `mount point ${path} does not exist (${error.code}); create it with mkdir -p ${path}`, { cause: error });
  });
  if (!info.isDirectory()) throw new S3BackerError('S3B_MOUNT_POINT', `mount point ${path} is not a directory; give an empty directory`);
  return path;
}

/**
 * `s3backer [flags] bucket mountpoint`. Like the C tool, it returns once the disk is mounted and
 * serves it from a background process, unless `-f`. The background process is this program again
 * with `-f`, reporting over IPC whether the mount succeeded, so errors still reach the terminal.
 */
export async function mountCommand(given: ResolvedConfig, fuseOptions: readonly string[], argv: readonly string[]): Promise<number> {
  const mountPoint = await checkMountPoint(given.mountPoint!);
  const isDaemon = process.env[DAEMON_ENV] !== undefined;
  // Ask for the password here, on the terminal, before going to the background.
  const password = isDaemon && process.env[PASSWORD_IPC_ENV] !== undefined ? await passwordFromParent() : await resolvePassword(given);
  if (!given.foreground && !isDaemon) return daemonize(argv, mountPoint, password);
  const config: ResolvedConfig = password === undefined ? given : Object.freeze({ ...given, password });

  const logging = switchableLogSink({ debug: config.debug, quiet: config.quiet });
  const engine = createEngine(config, logging.sink);
  const log = engine.log;
  const device = await engine.mount();
  const frontend = new FuseFrontend(device, {
    mountPoint, filename: config.filename, statsFilename: config.statsFilename, fileMode: config.fileMode!,
    readOnly: config.readOnly, directIO: config.directIO || config.sharedDiskMode, fsname: engine.store.description, fuseOptions,
    statsText: () => engine.stats.render(), resetStats: () => engine.stats.reset(), log,
  });
  try {
    await frontend.mount();
  } catch (error) {
    await engine.shutdown();
    throw error;
  }
  if (isDaemon) {
    logging.toSyslog();
    process.send?.({ type: 'ready', pid: process.pid });
    process.disconnect?.();
  }
  log.info(`s3backer process ${process.pid} for ${mountPoint} started`);
  const mirror = config.statsFileMirror === undefined ? undefined : startStatsFileMirror({
    path: resolve(config.statsFileMirror), intervalMs: config.statsFileMirrorInterval,
    render: () => engine.stats.render(), reset: () => engine.stats.reset(), log,
  });

  return serveUntilReleased(frontend, engine, mountPoint, async () => mirror?.stop());
}

/**
 * Serve until the disk is really released, then shut the engine down; resolves to the exit code.
 *
 * The disk is free only when the FUSE loop has ended (`frontend.closed`): the mount is gone AND
 * its last open file was released. A loop device keeps the disk file open through `umount -l`,
 * and ext4 on it keeps writing; shutting down earlier loses those writes.
 *
 * - `umount` / `umount -l` / `fusermount -u` by someone else: nothing to do but wait for the loop to end.
 * - SIGTERM/SIGINT: ask for a NON-lazy unmount. While the disk is in use it fails (EBUSY); then we
 *   say who holds it, keep serving and ask again every second, so `losetup -d` lets us finish. A
 *   repeated signal says it again. SIGKILL is the way to force an exit.
 *
 * The C tool does not wait: its main.c serves through libfuse's fuse_main(), whose signal handlers
 * end the FUSE loop on SIGTERM/SIGINT/SIGHUP whatever still has the file open, and fuse_ops.c's
 * fuse_op_destroy() then flushes, clears the mount token and the process exits under a live loop
 * device (a file written afterwards is lost). We do better on purpose.
 */
function serveUntilReleased(frontend: FuseFrontend, engine: Engine, mountPoint: string, afterShutdown: () => Promise<void>): Promise<number> {
  const log = engine.log;
  let ended = false;
  let retry: NodeJS.Timeout | undefined;
  let lastFailure: string | undefined;
  // One attempt at a time, in order: a signal never races a retry's fusermount.
  let attempts = Promise.resolve();

  /** One non-lazy unmount attempt; `why` names the signal (it reports every outcome), a retry reports only news. */
  const attempt = async (why?: string) => {
    if (ended) return;
    const result = await frontend.requestUnmount();
    if (ended) return;
    switch (result.outcome) {
      case 'unmounted':
        return log.info(why ? `${why}: unmounted ${mountPoint}` : `unmounted ${mountPoint}: its last user let go`);
      case 'detached':
        if (why) log.warn(`${why}: ${mountPoint} is already unmounted (umount -l?) but a file on it is still open (a loop device?); serving until it is released`);
        return;
      case 'busy': {
        const { diskFile, holders } = result;
        if (why) {
          log.warn(holders.length > 0
            ? `${why}: ${diskFile} is still in use by ${holders.join(', ')} (detach it with: umount <fs>; ${holders.map((device) => `losetup -d ${device}`).join('; ')}); serving until it is released`
            : `${why}: ${mountPoint} is still in use (no loop device holds ${diskFile}; see fuser -vm ${mountPoint}); serving until it is released`);
        }
        break;
      }
      case 'failed':
        if (why || result.message !== lastFailure) log.error(`${why ?? 'unmount'}: cannot unmount ${mountPoint}: ${result.message}; serving, and retrying every second`);
        lastFailure = result.message;
        break;
    }
    retry ??= setTimeout(() => {
      retry = undefined;
      queue();
    }, 1000);
  };
  const queue = (why?: string) => {
    attempts = attempts.then(() => attempt(why)).catch((error: unknown) => log.error(`unmount ${mountPoint}: ${error instanceof Error ? error.message : String(error)}`));
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (ended) return log.info(`${signal}: already shutting down`);
    clearTimeout(retry);
    retry = undefined;
    queue(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  return frontend.closed.then(async () => {
    ended = true;
    clearTimeout(retry);
    log.info(`unmount ${mountPoint}: the FUSE connection is closed, the disk is free; shutting down`);
    try {
      // Drains in-flight requests, flushes, clears the mounted flag, closes the store.
      await engine.shutdown().finally(afterShutdown);
      log.info(`unmount ${mountPoint}: completed`);
      return 0;
    } catch (error) {
      const code = error instanceof S3BackerError ? ` [${error.code}]` : '';
      log.error(`shutdown failed: ${error instanceof Error ? error.message : String(error)}${code}`);
      return 1;
    }
  });
}

/** The background child's password: asked from the parent over IPC (a message sent before we listen would be lost). */
function passwordFromParent(): Promise<string> {
  return new Promise((resolve, reject) => {
    process.send?.({ type: 'want-password' });
    const timer = setTimeout(() => reject(new S3BackerError('S3B_CONFIG_INVALID', 'the password did not arrive from the starting process')), 30_000);
    process.once('message', (message: { type?: string; password?: string }) => {
      clearTimeout(timer);
      if (message.type === 'password' && typeof message.password === 'string') resolve(message.password);
      else reject(new S3BackerError('S3B_CONFIG_INVALID', 'the starting process sent no password'));
    });
  });
}

async function daemonize(argv: readonly string[], mountPoint: string, password: string | undefined): Promise<number> {
  // The child's stderr is a pipe to us, relayed while it starts; once it is mounted it logs to
  // syslog and we exit, so nobody's pipe stays open for the life of the mount.
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...argv], {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: { ...process.env, [DAEMON_ENV]: '1', ...(password === undefined ? {} : { [PASSWORD_IPC_ENV]: '1' }) },
  });
  if (password !== undefined) {
    child.on('message', (message: { type?: string }) => { if (message.type === 'want-password') child.send({ type: 'password', password }); });
  }
  child.stderr!.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  return new Promise<number>((done) => {
    child.on('message', (message: { type?: string; pid?: number }) => {
      if (message.type !== 'ready') return;
      process.stderr.write(`s3backer: s3backer process ${message.pid} for ${mountPoint} started\n`);
      // Errors after this point reach the user only as EIO: say where their reasons go.
      process.stderr.write(`s3backer: ${backgroundLogNotice()}\n`);
      child.stderr!.destroy();
      child.disconnect();
      child.unref();
      done(0);
    });
    // 'close' (not 'exit'): every line the child wrote before failing has been relayed.
    child.once('close', (code, signal) => {
      if (code === 0) return done(0);
      process.stderr.write(`s3backer: mounting ${mountPoint} failed (background process exited with ${code ?? signal})\n`);
      done(code ?? 1);
    });
  });
}
