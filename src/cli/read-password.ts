import { readFile } from 'node:fs/promises';
import type { ResolvedConfig } from '../config/resolved-config.js';
import { S3BackerError } from '../errors/s3backer-error.js';

/** The streams a hidden prompt needs: a terminal to read from (raw mode) and one to write to. */
export interface PromptStreams {
  input: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?(mode: boolean): unknown };
  output: NodeJS.WritableStream;
}

/**
 * The encryption password, from `--password`, the first line of `--passwordFile` (the C tool's
 * s3b_config.c strips the trailing newline), or a hidden `Password: ` prompt when stdin is a
 * terminal (the C tool's getpass()). Without a terminal there is nobody to ask: a clear error, not
 * a hang.
 */
export async function resolvePassword(config: ResolvedConfig, streams: PromptStreams = { input: process.stdin, output: process.stderr }): Promise<string | undefined> {
  if (config.encrypt === undefined) return undefined;
  if (config.password !== undefined) return config.password;
  if (config.passwordFile !== undefined) return readPasswordFile(config.passwordFile);
  if (streams.input.isTTY !== true || typeof streams.input.setRawMode !== 'function') {
    throw new S3BackerError('S3B_CONFIG_INVALID',
      '--encrypt needs the volume\'s password, and stdin is not a terminal to ask on; give --passwordFile=FILE (or --password=...)');
  }
  return promptHidden('Password: ', streams);
}

export async function readPasswordFile(path: string): Promise<string> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new S3BackerError('S3B_CONFIG_INVALID', `cannot read --passwordFile=${path} (${error.code ?? error.message}); check the path and its permissions`, { cause: error });
  });
  const password = text.split(/\r?\n/, 1)[0]!;
  if (password === '') throw new S3BackerError('S3B_CONFIG_INVALID', `--passwordFile=${path} has an empty first line; put the password on the first line`);
  return password;
}

/** Read one line from a terminal without echoing it; Ctrl-C or Ctrl-D abandons the prompt. */
export function promptHidden(question: string, { input, output }: PromptStreams): Promise<string> {
  // Echo off before the question shows, so nothing typed in answer to it can be echoed.
  input.setRawMode!(true);
  output.write(question);
  input.resume();
  return new Promise((resolve, reject) => {
    let text = '';
    const finish = () => {
      input.setRawMode!(false);
      input.pause();
      input.removeListener('data', onData);
      output.write('\n');
    };
    const onData = (chunk: Buffer | string) => {
      for (const char of chunk.toString()) {
        if (char === '\r' || char === '\n') {
          finish();
          if (text === '') return reject(new S3BackerError('S3B_CONFIG_INVALID', 'no password was typed; the volume\'s password is needed to encrypt and decrypt its blocks'));
          return resolve(text);
        }
        if (char === '\u0003' || char === '\u0004') {
          finish();
          return reject(new S3BackerError('S3B_CONFIG_INVALID', 'password prompt abandoned; nothing was mounted'));
        }
        if (char === '\u007f' || char === '\b') text = Array.from(text).slice(0, -1).join('');
        else if (char === '\u0015') text = ''; // Ctrl-U erases the line, as a terminal's line discipline would
        else if (char >= ' ') text += char;
      }
    };
    input.on('data', onData);
  });
}
