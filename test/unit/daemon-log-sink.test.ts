import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backgroundLogNotice, switchableLogSink, SYSLOG_IDENTIFIER } from '../../src/cli/daemon-log-sink.js';

const cleanups: string[] = [];
after(async () => {
  for (const dir of cleanups) await rm(dir, { recursive: true, force: true });
});

test('the notice names where the background log goes, or says it is lost', { timeout: 5_000 }, () => {
  assert.match(backgroundLogNotice({ hasLogger: true, hasSyslogSocket: true }),
    /^the background process logs to syslog \(journalctl -t s3backer, or \/var\/log\/syslog\): look there when the disk returns "Input\/output error"; run with -f to keep the log on the terminal$/);
  assert.match(backgroundLogNotice({ hasLogger: false, hasSyslogSocket: true }),
    /cannot log: logger\(1\) is not installed, so its messages \(errors after the mount included\) are lost; install bsdutils/);
  assert.match(backgroundLogNotice({ hasLogger: true, hasSyslogSocket: false }),
    /cannot log: nothing listens on \/dev\/log .*are lost; start one, or run with -f/);
});

test('without logger(1) on the PATH, the notice says so', { timeout: 5_000 }, async () => {
  const empty = await mkdtemp(join(tmpdir(), 's3backer-nopath-'));
  cleanups.push(empty);
  const saved = process.env.PATH;
  process.env.PATH = empty;
  try {
    assert.match(backgroundLogNotice(), /logger\(1\) is not installed/);
  } finally {
    process.env.PATH = saved;
  }
});

test('after toSyslog(), messages go through logger(1) under the tag the notice names', { timeout: 10_000 }, async () => {
  const bin = await mkdtemp(join(tmpdir(), 's3backer-logger-'));
  cleanups.push(bin);
  const record = join(bin, 'args');
  // A stand-in logger(1) that records its arguments, one per line.
  await writeFile(join(bin, 'logger'), `#!/bin/sh\nprintf '%s\\n' "$@" >> '${record}'\n`);
  await chmod(join(bin, 'logger'), 0o755);
  const saved = process.env.PATH;
  process.env.PATH = `${bin}:${saved ?? ''}`;
  try {
    const logging = switchableLogSink({ debug: false, quiet: false });
    logging.toSyslog();
    logging.sink('error', 'engine', 'block 0000002a: upload failed');
    let args = '';
    for (let waited = 0; waited < 5_000 && !args.includes('upload failed'); waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      args = await readFile(record, 'utf8').catch(() => '');
    }
    assert.deepEqual(args.trimEnd().split('\n'), ['-t', `${SYSLOG_IDENTIFIER}[${process.pid}]`, '-p', 'daemon.err', '--', 'block 0000002a: upload failed']);
    assert.ok(backgroundLogNotice({ hasLogger: true, hasSyslogSocket: true }).includes(`journalctl -t ${SYSLOG_IDENTIFIER}`));
  } finally {
    process.env.PATH = saved;
  }
});
