import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import type { ResolvedConfig } from '../config/resolved-config.js';
import type { Engine } from '../engine/engine.js';
import type { S3BackerPlugin } from '../engine/plugin.js';
import type { PluginOptionValues } from '../config/merge-config.js';
import { S3BackerError } from '../errors/s3backer-error.js';
import type { Frontend } from '../frontends/frontend.js';
import { createEngine } from './run-engine.js';
import { switchableLogSink, backgroundLogNotice, backgroundLogTarget } from './daemon-log-sink.js';
import { resolvePassword } from './read-password.js';
import { startStatsFileMirror } from './stats-file-mirror.js';

/** Set in the environment of the background child that serves the volume. */
const DAEMON_ENV = 'S3BACKER_DAEMON_CHILD';
/** Set when the parent sends the (prompted or file) password over IPC: never in argv or the environment. */
const PASSWORD_IPC_ENV = 'S3BACKER_PASSWORD_OVER_IPC';

export interface ServeOptions {
  /** The command line's configuration (before the password is resolved). */
  config: ResolvedConfig;
  /** The config file's plugins (ResolvedCommandLine.plugins). */
  plugins: readonly S3BackerPlugin[];
  /** The values of the options those plugins declare (ResolvedCommandLine.pluginOptions). */
  pluginOptions?: PluginOptionValues;
  /** The arguments the background child is started with (the same command line). */
  argv: readonly string[];
  /** Where the disk goes, for the messages of the starting process: the mount point, the NBD address. */
  target: string;
  /** The front end, made once the engine exists (a front end may show the engine's stats or store). */
  frontend: (engine: Engine, config: ResolvedConfig) => Frontend;
  /** After the front end started, before the process reports ready (the NBD wrapper attaches nbd-client here). */
  started?: (frontend: Frontend, engine: Engine) => Promise<void>;
}

/**
 * The front-end-agnostic life of a served volume: password, background mode, engine, front end,
 * signals, draining and the exit code. Like the C tool, it returns once the disk is served and
 * serves it from a background process, unless `-f`. The background process is this program again
 * with `-f`-like behaviour, reporting over IPC whether starting succeeded, so errors still reach
 * the terminal.
 */
export async function serveVolume(options: ServeOptions): Promise<number> {
  const given = options.config;
  const isDaemon = process.env[DAEMON_ENV] !== undefined;
  // Ask for the password here, on the terminal, before going to the background.
  const password = isDaemon && process.env[PASSWORD_IPC_ENV] !== undefined ? await passwordFromParent() : await resolvePassword(given);
  const logTarget = backgroundLogTarget(given.logFile === undefined ? undefined : resolve(given.logFile));
  if (!given.foreground && !isDaemon) return daemonize(options.argv, options.target, password, backgroundLogNotice(logTarget));
  const config: ResolvedConfig = password === undefined ? given : Object.freeze({ ...given, password });

  const logging = switchableLogSink({ debug: config.debug, quiet: config.quiet });
  const engine = createEngine(config, options.plugins, logging.sink, options.pluginOptions);
  const log = engine.log;
  const device = await engine.mount();
  const frontend = options.frontend(engine, config);
  try {
    await frontend.start(device);
    await options.started?.(frontend, engine);
  } catch (error) {
    // A front end that started and then failed (nbd-client) is stopped before the engine shuts down.
    await stopQuietly(frontend);
    await engine.shutdown();
    throw error;
  }
  if (isDaemon) {
    logging.toBackground(logTarget);
    process.send?.({ type: 'ready', pid: process.pid });
    process.disconnect?.();
  }
  log.info(`s3backer process ${process.pid} for ${frontend.description} started`);
  const mirror = config.statsFileMirror === undefined ? undefined : startStatsFileMirror({
    path: resolve(config.statsFileMirror), intervalMs: config.statsFileMirrorInterval,
    render: () => engine.stats.render(), reset: () => engine.stats.reset(), log,
  });

  return serveUntilReleased(frontend, engine, async () => mirror?.stop());
}

async function stopQuietly(frontend: Frontend): Promise<void> {
  const stop = await frontend.requestStop('start failed').catch(() => undefined);
  if (stop?.outcome === 'stopping') await Promise.race([frontend.closed, new Promise((done) => setTimeout(done, 5000).unref())]);
}

/**
 * Serve until the front end has really let go of the disk (`frontend.closed`), then shut the
 * engine down; resolves to the exit code.
 *
 * - The client side goes away by itself (umount, `umount -l`, `nbd-client -d`): nothing to do but wait.
 * - SIGTERM/SIGINT: ask the front end to stop. If it cannot without losing data (FUSE: a loop
 *   device still holds the disk file), it says why; we keep serving and ask again every second,
 *   so `losetup -d` lets us finish. A repeated signal says it again. SIGKILL forces an exit.
 *
 * The C tool does not wait: its main.c serves through libfuse's fuse_main(), whose signal handlers
 * end the FUSE loop on SIGTERM/SIGINT/SIGHUP whatever still has the file open, and fuse_ops.c's
 * fuse_op_destroy() then flushes, clears the mount token and the process exits under a live loop
 * device (a file written afterwards is lost). We do better on purpose.
 */
function serveUntilReleased(frontend: Frontend, engine: Engine, afterShutdown: () => Promise<void>): Promise<number> {
  const log = engine.log;
  const target = frontend.description;
  let ended = false;
  let retry: NodeJS.Timeout | undefined;
  let lastMessage: string | undefined;
  // One attempt at a time, in order: a signal never races a retry.
  let attempts = Promise.resolve();

  /** One attempt to stop; `why` names the signal (it reports every outcome), a retry reports only news. */
  const attempt = async (why?: string) => {
    if (ended) return;
    const result = await frontend.requestStop(why);
    if (ended) return;
    if (result.outcome === 'stopping') {
      if (result.message !== undefined) log.info(result.message);
      return;
    }
    if (why !== undefined || result.message !== lastMessage) log.warn(why === undefined ? result.message : `${why}: ${result.message}`);
    lastMessage = result.message;
    retry ??= setTimeout(() => {
      retry = undefined;
      queue();
    }, 1000);
  };
  const queue = (why?: string) => {
    attempts = attempts.then(() => attempt(why)).catch((error: unknown) => log.error(`stopping ${target}: ${error instanceof Error ? error.message : String(error)}`));
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
    log.info(`unmount ${target}: the front end is closed, the disk is free; shutting down`);
    try {
      // Drains in-flight requests, flushes, clears the mounted flag, closes the store.
      await engine.shutdown().finally(afterShutdown);
      log.info(`unmount ${target}: completed`);
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

async function daemonize(argv: readonly string[], target: string, password: string | undefined, logNotice: string): Promise<number> {
  // The child's stderr is a pipe to us, relayed while it starts; once it serves it logs to
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
      process.stderr.write(`s3backer: s3backer process ${message.pid} for ${target} started\n`);
      // Errors after this point reach the user only as EIO: say where their reasons go.
      process.stderr.write(`s3backer: ${logNotice}\n`);
      child.stderr!.destroy();
      child.disconnect();
      child.unref();
      done(0);
    });
    // 'close' (not 'exit'): every line the child wrote before failing has been relayed.
    child.once('close', (code, signal) => {
      if (code === 0) return done(0);
      process.stderr.write(`s3backer: serving ${target} failed (background process exited with ${code ?? signal})\n`);
      done(code ?? 1);
    });
  });
}
