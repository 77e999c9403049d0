import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { stderrSink, type LogLevel, type LogSink } from '../engine/logger.js';

const SYSLOG_PRIORITY: Record<LogLevel, string> = { error: 'daemon.err', warn: 'daemon.warning', info: 'daemon.info', debug: 'daemon.debug' };

/**
 * The syslog tag is `s3backer[PID]`: logger(1) sends `<pri>TIME s3backer[PID]: text` to /dev/log,
 * which journald and rsyslog read as identifier `s3backer` and that PID, so `journalctl -t s3backer`
 * finds our messages where it finds the C tool's (its util.c syslog_logger calls vsyslog without
 * openlog, so they carry the program name).
 */
export const SYSLOG_IDENTIFIER = 's3backer';

/** The local syslog socket logger(1) writes to. */
const SYSLOG_SOCKET = '/dev/log';

export interface SwitchableLogSink {
  sink: LogSink;
  /** From now on, log to syslog: the background process has no terminal (C: syslog unless -f). */
  toSyslog(): void;
}

/**
 * Logs to stderr (as the C tool does in the foreground) until `toSyslog()`, then through
 * `logger(1)` (util-linux/bsdutils, essential on Debian), so a daemon keeps no pipe of its
 * caller open and its messages still reach the journal.
 */
export function switchableLogSink(options: { debug: boolean; quiet: boolean }): SwitchableLogSink {
  const toStderr = stderrSink(options);
  let syslog = false;
  return {
    sink: (level, source, message) => {
      if (!syslog) return toStderr(level, source, message);
      if (level === 'debug' && !options.debug) return;
      const text = source === 'engine' ? message : `[${source}] ${message}`;
      spawn('logger', ['-t', `${SYSLOG_IDENTIFIER}[${process.pid}]`, '-p', SYSLOG_PRIORITY[level], '--', text], { stdio: 'ignore' })
        .on('error', () => {})
        .unref();
    },
    toSyslog: () => {
      syslog = true;
      // The parent stops reading our stderr once we are mounted; never let a late write kill us.
      process.stderr.on('error', () => {});
    },
  };
}

export interface SyslogEnvironment {
  /** Whether logger(1) is on the PATH. */
  hasLogger: boolean;
  /** Whether something listens on /dev/log (journald or a syslog daemon). */
  hasSyslogSocket: boolean;
}

/**
 * One line for the terminal when s3backer goes to the background: where its log goes from then on.
 * Once mounted, a failure reaches the user only as `Input/output error`; its reason is in this log.
 * When the log cannot be written (no logger(1), no syslog daemon, as in many containers) it says so,
 * rather than letting the messages vanish unannounced.
 */
export function backgroundLogNotice(environment: SyslogEnvironment = currentSyslogEnvironment()): string {
  const instead = 'run with -f to keep the log on the terminal';
  if (!environment.hasLogger) {
    return `the background process cannot log: logger(1) is not installed, so its messages (errors after the mount included) are lost; install bsdutils (util-linux), or ${instead}`;
  }
  if (!environment.hasSyslogSocket) {
    return `the background process cannot log: nothing listens on ${SYSLOG_SOCKET} (no journald or syslog daemon), so its messages (errors after the mount included) are lost; start one, or ${instead}`;
  }
  return `the background process logs to syslog (journalctl -t ${SYSLOG_IDENTIFIER}, or /var/log/syslog): look there when the disk returns "Input/output error"; ${instead}`;
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
