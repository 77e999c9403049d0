import { S3BackerError } from 's3backer';

/**
 * The option shape every built-in compressor takes, `{ encode?: boolean; level?: number }`, checked
 * the same way for each (deflate, zstd, lz4): an object, no unknown key, `encode` a boolean.
 * Returns `encode`; the level's range is the caller's to check, since it differs per algorithm.
 * `allowed` describes the valid shape in the messages.
 */
export function checkCompressorOptions(plugin: string, options: { encode?: unknown; level?: unknown }, allowed: string): boolean {
  const fail = (message: string) => new S3BackerError('S3B_CONFIG_INVALID', message, { plugin });
  if (typeof options !== 'object' || options === null) throw fail(`${plugin} plugin options must be an object; ${allowed}`);
  for (const key of Object.keys(options)) {
    if (key !== 'encode' && key !== 'level') throw fail(`${plugin} plugin has no option "${key}"; ${allowed}`);
  }
  if (options.encode !== undefined && typeof options.encode !== 'boolean') {
    throw fail(`${plugin} plugin option "encode" must be true or false, not ${JSON.stringify(options.encode)}`);
  }
  return options.encode === true;
}
