import type { S3BackerPlugin } from '../engine/plugin.js';

/** Whether a config file's entry (or a package's factory result) is a plugin: a string `name` and an `apply` function. */
export function isPlugin(value: unknown): value is S3BackerPlugin {
  return typeof value === 'object' && value !== null &&
    typeof (value as { name?: unknown }).name === 'string' && typeof (value as { apply?: unknown }).apply === 'function';
}
