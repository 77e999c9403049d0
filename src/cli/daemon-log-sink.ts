import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, openSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { formatLogLine, stderrSink, type LogLevel, type LogSink } from '../engine/logger.js';

/** Syslog severities (RFC 5424) in the `daemon` facility (3): the `<PRI>` logger(1) reads with --prio-prefix. */
const DAEMON_FACILITY = 3 * 8;
const SEVERITY: Record<LogLevel, number> = { error: 3, warn: 4, info: 6, debug: 7 };

/**
 * The syslog tag is `s3backer[PID]`: logger(1) sends `<pri>TIME s3backer[PID]: text` to /dev/log,
 * which journald and rsyslog read as identifier `s3backer` and that PID, so `journalctl -t s3backer`
 * finds our messages where it finds the C tool's (its util.c syslog_logger calls vsyslog without
 * openlog, so they carry the program name).
 */
export const SYSLOG_IDENTIFIER = 's3backer';

/** The local syslog socket logger(1) writes to. */
const SYSLOG_SOCKET = '/dev/log';

/** Where the background process's log goes. */
export type BackgroundLogTarget =
  | { kind: 'syslog' }
  /** `reason`: why not syslog (undefined: `--logFile` asked for the file). */
  | { kind: 'file'; path: string; reason?: string };

export interface SyslogEnvironment {
  /** Whether logger(1) is on the PATH. */
  hasLogger: boolean;
  /** Whether something listens on /dev/log (journald or a syslog daemon). */
  hasSyslogSocket: boolean;
}

/**
 * `--logFile` if given; else syslog where it can be reached; else a file, so the messages of a
 * background process are never silently lost (the C tool's syslog(3) drops them when nothing
 * listens on /dev/log, as in most containers).
 */
export function backgroundLogTarget(logFile: string | undefined, environment: SyslogEnvironment = currentSyslogEnvironment()): BackgroundLogTarget {
  if (logFile !== undefined) return { kind: 'file', path: logFile };
  if (environment.hasLogger && environment.hasSyslogSocket) return { kind: 'syslog' };
  return {
    kind: 'file',
    path: defaultLogFile(),
    reason: environment.hasLogger ? `nothing listens on ${SYSLOG_SOCKET} (no journald or syslog daemon)` : 'logger(1) is not installed (bsdutils)',
  };
}

/** The fallback log file: root's in /var/log, anyone else's in their home directory. */
export function defaultLogFile(): string {
  return process.getuid?.() === 0 ? '/var/log/s3backer.log' : join(homedir(), '.s3backer.log');
}

/**
 * One line for the terminal when s3backer goes to the background: where its log goes from then on.
 * Once mounted, a failure reaches the user only as `Input/output error`; its reason is in this log.
 */
export function backgroundLogNotice(target: BackgroundLogTarget): string {
  const instead = 'run with -f to keep the log on the terminal';
  const look = 'look there when the disk returns "Input/output error"';
  if (target.kind === 'syslog') return `the background process logs to syslog (journalctl -t ${SYSLOG_IDENTIFIER}, or /var/log/syslog): ${look}; ${instead}`;
  return target.reason === undefined
    ? `the background process logs to ${target.path}: ${look}; ${instead}`
    : `the background process logs to ${target.path}, not syslog: ${target.reason}; ${look}; ${instead}`;
}

export interface SwitchableLogSink {
  sink: LogSink;
  /** From now on, log to `target`: the background process has no terminal (C: syslog unless -f). */
  toBackground(target: BackgroundLogTarget): void;
}

/**
 * Logs to stderr (as the C tool does in the foreground) until `toBackground()`, then to syslog
 * through ONE logger(1) process that reads a line per message with its priority in front
 * (`--prio-prefix`), or appended to a file. A logger(1) per message cost a process start per line:
 * background writes with `--debug` ran 8–10× slower.
 */
export function switchableLogSink(options: { debug: boolean; quiet: boolean; fallbackLogFile?: string }): SwitchableLogSink {
  const toStderr = stderrSink(options);
  let background: LogSink | undefined;
  return {
    sink: (level, source, message) => {
      if (background === undefined) return toStderr(level, source, message);
      if (level === 'debug' && !options.debug) return;
      background(level, source, message);
    },
    toBackground: (target) => {
      // The parent stops reading our stderr once we are serving; never let a late write kill us.
      process.stderr.on('error', () => {});
      background = target.kind === 'syslog' ? syslogSink(options.fallbackLogFile ?? defaultLogFile()) : fileSink(target.path);
    },
  };
}

/** One logger(1) for the life of the process; if it dies, the rest goes to the fallback file, which says so. */
function syslogSink(fallbackPath: string): LogSink {
  let fallback: LogSink | undefined;
  let logger: ChildProcess | undefined = spawn('logger', ['--prio-prefix', '-t', `${SYSLOG_IDENTIFIER}[${process.pid}]`], { stdio: ['pipe', 'ignore', 'ignore'] });
  const lost = (why: string) => {
    if (logger === undefined) return;
    logger = undefined;
    fallback = fileSink(fallbackPath);
    fallback('warn', 'engine', `syslog: ${why}; logging to ${fallbackPath} from now on`);
  };
  logger.on('error', (error) => lost(`logger(1) failed: ${error.message}`));
  logger.on('exit', (code, signal) => lost(`logger(1) exited (${code ?? signal})`));
  logger.stdin!.on('error', () => {});
  // Neither the process nor its pipe may keep a finished s3backer alive.
  logger.unref();
  (logger.stdin as unknown as { unref?: () => void }).unref?.();
  return (level, source, message) => {
    if (fallback !== undefined) return fallback(level, source, message);
    const priority = `<${DAEMON_FACILITY + SEVERITY[level]}>`;
    const text = source === 'engine' ? message : `[${source}] ${message}`;
    // logger(1) sends one message per line: a multi-line message keeps its priority on each.
    logger!.stdin!.write(text.split('\n').map((line) => priority + line + '\n').join(''));
  };
}

/**
 * Appended with synchronous writes: a log line is small, and the last lines before an exit (or a
 * crash) are the ones that matter; an async stream loses them when the process exits at once.
 */
function fileSink(path: string): LogSink {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'a', 0o600);
  } catch {
    // Nowhere is left to report a log that cannot be written; the disk goes on without it.
  }
  return (level, source, message) => {
    if (fd === undefined) return;
    try {
      writeSync(fd, formatLogLine(level, source, message).replace(/^(\S+ \S+) /, `$1 ${SYSLOG_IDENTIFIER}[${process.pid}] `));
    } catch {
      fd = undefined;
    }
  };
}

function currentSyslogEnvironment(): SyslogEnvironment {
  return { hasLogger: onPath('logger'), hasSyslogSocket: existsSync(SYSLOG_SOCKET) };
}

/** Whether `command` is an executable in one of the PATH directories, as spawn() would find it. */
function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    if (dir === '') return false;
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
