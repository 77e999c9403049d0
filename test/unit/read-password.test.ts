import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolvePassword, type PromptStreams } from '../../src/cli/read-password.js';
import { isS3BackerError } from '../../src/errors/s3backer-error.js';
import { testConfig } from '../helpers/test-config.js';

/** A stand-in terminal: raw mode is recorded, keystrokes are pushed by the test. */
function fakeTerminal() {
  const input = Object.assign(new PassThrough(), { isTTY: true, rawModes: [] as boolean[], setRawMode(mode: boolean) { this.rawModes.push(mode); return this; } });
  const output = new PassThrough();
  let shown = '';
  output.on('data', (chunk) => { shown += chunk.toString(); });
  return { streams: { input, output } as PromptStreams, input, shown: () => shown };
}

test('the prompt reads a hidden line from the terminal: no echo, backspace and Ctrl-U edit it, raw mode is restored', { timeout: 5_000 }, async () => {
  const terminal = fakeTerminal();
  const answer = resolvePassword(testConfig({ encrypt: 'AES-128-CBC' }), terminal.streams);
  terminal.input.write('wrong\u0015corr');
  terminal.input.write('ecx\u007ft-horse\r');
  assert.equal(await answer, 'correct-horse');
  assert.equal(terminal.shown(), 'Password: \n', 'nothing typed is echoed');
  assert.deepEqual(terminal.input.rawModes, [true, false]);
});

test('Ctrl-C at the prompt abandons the mount; an empty line is refused', { timeout: 5_000 }, async () => {
  const interrupted = fakeTerminal();
  const first = resolvePassword(testConfig({ encrypt: 'AES-128-CBC' }), interrupted.streams);
  interrupted.input.write('abc\u0003');
  await assert.rejects(first, (error) => isS3BackerError(error, 'S3B_CONFIG_INVALID') && /abandoned/.test((error as Error).message));
  assert.deepEqual(interrupted.input.rawModes, [true, false]);
  const empty = fakeTerminal();
  const second = resolvePassword(testConfig({ encrypt: 'AES-128-CBC' }), empty.streams);
  empty.input.write('\n');
  await assert.rejects(second, (error) => isS3BackerError(error, 'S3B_CONFIG_INVALID') && /no password/.test((error as Error).message));
});

test('--password wins; --passwordFile gives its first line without the newline; no terminal is a clear error', { timeout: 5_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 's3b-pw-'));
  try {
    const notTerminal: PromptStreams = { input: new PassThrough(), output: new PassThrough() };
    assert.equal(await resolvePassword(testConfig({}), notTerminal), undefined, 'no --encrypt: no password needed');
    assert.equal(await resolvePassword(testConfig({ encrypt: 'AES-128-CBC', password: 'given' }), notTerminal), 'given');
    await writeFile(join(dir, 'pw'), 'from-file\r\nsecond line\n');
    assert.equal(await resolvePassword(testConfig({ encrypt: 'AES-128-CBC', passwordFile: join(dir, 'pw') }), notTerminal), 'from-file');
    await writeFile(join(dir, 'empty'), '\n');
    await assert.rejects(resolvePassword(testConfig({ encrypt: 'AES-128-CBC', passwordFile: join(dir, 'empty') }), notTerminal), /empty first line/);
    await assert.rejects(resolvePassword(testConfig({ encrypt: 'AES-128-CBC', passwordFile: join(dir, 'missing') }), notTerminal), (error) =>
      isS3BackerError(error, 'S3B_CONFIG_INVALID') && /ENOENT/.test((error as Error).message));
    await assert.rejects(resolvePassword(testConfig({ encrypt: 'AES-128-CBC' }), notTerminal), (error) =>
      isS3BackerError(error, 'S3B_CONFIG_INVALID') && /not a terminal.*--passwordFile/.test((error as Error).message));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
