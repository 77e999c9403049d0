export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface Logger {
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
}

export type LogSink = (level: LogLevel, source: string, message: string) => void;

const LEVEL_NAMES: Record<LogLevel, string> = { error: 'ERROR', warn: 'WARNING', info: 'INFO', debug: 'DEBUG' };

/** One log line in the C tool's foreground format: `YYYY-MM-DD HH:MM:SS LEVEL: msg` (local time), with its newline. */
export function formatLogLine(level: LogLevel, source: string, message: string, now = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())} ${pad(now.getHours())}:${pad(now.getMinutes())}:${pad(now.getSeconds())}`;
  return `${stamp} ${LEVEL_NAMES[level]}: ${source === 'engine' ? '' : `[${source}] `}${message}\n`;
}

/** The C tool's foreground log: formatLogLine on stderr; debug only with `debug`, info not when `quiet`. */
export function stderrSink(options: { debug: boolean; quiet: boolean }): LogSink {
  return (level, source, message) => {
    if (level === 'debug' && !options.debug) return;
    if (level === 'info' && options.quiet) return;
    process.stderr.write(formatLogLine(level, source, message));
  };
}

export function createLogger(sink: LogSink, source: string): Logger {
  return {
    error: (m) => sink('error', source, m),
    warn: (m) => sink('warn', source, m),
    info: (m) => sink('info', source, m),
    debug: (m) => sink('debug', source, m),
  };
}
