import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ResolvedConfig } from '../../config/resolved-config.js';
import { S3BackerError } from '../../errors/s3backer-error.js';
import { FuseFrontend } from '../../frontends/fuse/fuse-frontend.js';
import { createEngine } from '../run-engine.js';
import { switchableLogSink } from '../daemon-log-sink.js';

/** Set in the environment of the background child that serves the mount. */
const DAEMON_ENV = 'S3BACKER_DAEMON_CHILD';

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
export async function mountCommand(config: ResolvedConfig, fuseOptions: readonly string[], argv: readonly string[]): Promise<number> {
  const mountPoint = await checkMountPoint(config.mountPoint!);
  const isDaemon = process.env[DAEMON_ENV] !== undefined;
  if (!config.foreground && !isDaemon) return daemonize(argv, mountPoint);

  const logging = switchableLogSink({ debug: config.debug, quiet: config.quiet });
  const engine = createEngine(config, logging.sink);
  const log = engine.log;
  const device = await engine.mount();
  const frontend = new FuseFrontend(device, {
    mountPoint, filename: config.filename, statsFilename: config.statsFilename, fileMode: config.fileMode!,
    readOnly: config.readOnly, directIO: config.directIO, fsname: engine.store.description, fuseOptions,
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

  return new Promise<number>((done) => {
    let stopping = false;
    // Unmount (umount, fusermount -u) or SIGINT/SIGTERM: finish in-flight writes, flush, clear the mounted flag, exit 0.
    const stop = async (why: string, unmount: boolean) => {
      if (stopping) return log.info(`${why}: already shutting down`);
      stopping = true;
      log.info(`unmount ${mountPoint}: ${why}; shutting down`);
      try {
        if (unmount) await frontend.unmount();
        await engine.shutdown();
        log.info(`unmount ${mountPoint}: completed`);
        done(0);
      } catch (error) {
        log.error(`shutdown failed: ${error instanceof Error ? error.message : String(error)}`);
        done(1);
      }
    };
    process.on('SIGINT', () => void stop('SIGINT', true));
    process.on('SIGTERM', () => void stop('SIGTERM', true));
    frontend.watchForUnmount(() => void stop('file system unmounted', false));
  });
}

async function daemonize(argv: readonly string[], mountPoint: string): Promise<number> {
  // The child's stderr is a pipe to us, relayed while it starts; once it is mounted it logs to
  // syslog and we exit, so nobody's pipe stays open for the life of the mount.
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...argv], {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: { ...process.env, [DAEMON_ENV]: '1' },
  });
  child.stderr!.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  return new Promise<number>((done) => {
    child.once('message', (message: { type?: string; pid?: number }) => {
      if (message.type !== 'ready') return;
      process.stderr.write(`s3backer: s3backer process ${message.pid} for ${mountPoint} started\n`);
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
