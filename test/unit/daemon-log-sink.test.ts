import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backgroundLogNotice, backgroundLogTarget, defaultLogFile, switchableLogSink, SYSLOG_IDENTIFIER } from '../../src/cli/daemon-log-sink.js';

const cleanups: string[] = [];
after(async () => {
  for (const dir of cleanups) await rm(dir, { recursive: true, force: true });
});

async function waitFor(path: string, text: string): Promise<string> {
  let content = '';
  for (let waited = 0; waited < 5_000 && !content.includes(text); waited += 20) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    content = await readFile(path, 'utf8').catch(() => '');
  }
  return content;
}

test('the background log goes to syslog where it can, else to a file, and the notice says which and why', { timeout: 5_000 }, () => {
  const syslog = backgroundLogTarget(undefined, { hasLogger: true, hasSyslogSocket: true });
  assert.deepEqual(syslog, { kind: 'syslog' });
  assert.match(backgroundLogNotice(syslog),
    /^the background process logs to syslog \(journalctl -t s3backer, or \/var\/log\/syslog\): look there when the disk returns "Input\/output error"; run with -f to keep the log on the terminal$/);
  const noSocket = backgroundLogTarget(undefined, { hasLogger: true, hasSyslogSocket: false });
  assert.deepEqual(noSocket, { kind: 'file', path: defaultLogFile(), reason: 'nothing listens on /dev/log (no journald or syslog daemon)' });
  assert.match(backgroundLogNotice(noSocket), /logs to \S+s3backer\.log, not syslog: nothing listens on \/dev\/log/);
  assert.match(backgroundLogNotice(backgroundLogTarget(undefined, { hasLogger: false, hasSyslogSocket: true })), /not syslog: logger\(1\) is not installed/);
  const asked = backgroundLogTarget('/var/tmp/disk.log', { hasLogger: true, hasSyslogSocket: true });
  assert.deepEqual(asked, { kind: 'file', path: '/var/tmp/disk.log' });
  assert.match(backgroundLogNotice(asked), /^the background process logs to \/var\/tmp\/disk\.log: look there/);
  assert.equal(defaultLogFile(), process.getuid?.() === 0 ? '/var/log/s3backer.log' : join(process.env.HOME ?? '', '.s3backer.log'));
});

test('syslog: ONE logger(1) for every message, each line with its priority in front (--prio-prefix), under the tag the notice names', { timeout: 10_000 }, async () => {
  const bin = await mkdtemp(join(tmpdir(), 's3backer-logger-'));
  cleanups.push(bin);
  const record = join(bin, 'record');
  // A stand-in logger(1): records its arguments once per start, then the lines it reads.
  await writeFile(join(bin, 'logger'), `#!/bin/sh\necho "start $*" >> '${record}'\nwhile IFS= read -r line; do printf '%s\\n' "$line" >> '${record}'; done\n`);
  await chmod(join(bin, 'logger'), 0o755);
  const saved = process.env.PATH;
  process.env.PATH = `${bin}:${saved ?? ''}`;
  try {
    const logging = switchableLogSink({ debug: false, quiet: false });
    logging.toBackground({ kind: 'syslog' });
    logging.sink('error', 'engine', 'block 0000002a: upload failed');
    logging.sink('warn', 'block-cache', 'two\nlines');
    logging.sink('debug', 'engine', 'not without --debug');
    logging.sink('info', 'engine', 'last');
    const content = await waitFor(record, 'last');
    assert.deepEqual(content.trimEnd().split('\n'), [
      `start --prio-prefix -t ${SYSLOG_IDENTIFIER}[${process.pid}]`,
      '<27>block 0000002a: upload failed', '<28>[block-cache] two', '<28>lines', '<30>last',
    ]);
  } finally {
    process.env.PATH = saved;
  }
});

test('if logger(1) dies, the rest of the log goes to the fallback file, which says why', { timeout: 10_000 }, async () => {
  const bin = await mkdtemp(join(tmpdir(), 's3backer-logger-'));
  cleanups.push(bin);
  await writeFile(join(bin, 'logger'), '#!/bin/sh\nexit 3\n');
  await chmod(join(bin, 'logger'), 0o755);
  const saved = process.env.PATH;
  process.env.PATH = `${bin}:${saved ?? ''}`;
  try {
    const fallback = join(bin, 'fallback.log');
    const logging = switchableLogSink({ debug: false, quiet: false, fallbackLogFile: fallback });
    logging.toBackground({ kind: 'syslog' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    logging.sink('error', 'engine', 'after the logger died');
    const content = await waitFor(fallback, 'after the logger died');
    assert.match(content, /WARNING: syslog: logger\(1\) exited \(3\); logging to .*fallback\.log from now on/);
    assert.match(content, /s3backer\[\d+\] ERROR: after the logger died/);
  } finally {
    process.env.PATH = saved;
  }
});

test('--logFile: lines appended in the C tool\'s format with the tag, debug only with --debug', { timeout: 10_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 's3backer-logfile-'));
  cleanups.push(dir);
  const path = join(dir, 'disk.log');
  await writeFile(path, 'earlier line\n');
  const logging = switchableLogSink({ debug: false, quiet: false });
  logging.sink('info', 'engine', 'foreground: stderr, not the file');
  logging.toBackground({ kind: 'file', path });
  logging.sink('debug', 'engine', 'hidden');
  logging.sink('warn', 's3', 'slow answer');
  const content = await waitFor(path, 'slow answer');
  const lines = content.trimEnd().split('\n');
  assert.equal(lines[0], 'earlier line');
  assert.match(lines[1]!, new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d s3backer\\[${process.pid}\\] WARNING: \\[s3\\] slow answer$`));
  assert.equal(lines.length, 2);
});
