import { spawn } from 'node:child_process';
import { stderrSink, type LogLevel, type LogSink } from '../engine/logger.js';

const SYSLOG_PRIORITY: Record<LogLevel, string> = { error: 'daemon.err', warn: 'daemon.warning', info: 'daemon.info', debug: 'daemon.debug' };

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
      spawn('logger', ['-t', `s3backer[${process.pid}]`, '-p', SYSLOG_PRIORITY[level], '--', text], { stdio: 'ignore' })
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
