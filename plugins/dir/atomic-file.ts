import { randomBytes } from 'node:crypto';
import { link, mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Temp names are the C tool's `mkstemp("<path>.XXXXXX")` (c-s3backer.md §6.3), so leftovers of
 * either tool after a crash look alike and listings skip both.
 */
export const TEMP_NAME_PATTERN = /\.[A-Za-z0-9]{6}$/;

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function tempPath(path: string): string {
  const bytes = randomBytes(6);
  let suffix = '';
  for (const byte of bytes) suffix += ALPHABET[byte % ALPHABET.length];
  return `${path}.${suffix}`;
}

/** Write `data` to a fresh temp file next to `path`, creating missing parent directories. */
async function writeTemp(path: string, data: Buffer | string): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const temp = tempPath(path);
    try {
      // 0600 like mkstemp; 'wx' so two writers never share a temp file.
      await writeFile(temp, data, { flag: 'wx', mode: 0o600 });
      return temp;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && attempt === 0) {
        // Keys with '/' live in subdirectories, made on first use.
        await mkdir(dirname(path), { recursive: true });
      } else if (code !== 'EEXIST' || attempt > 8) {
        throw error;
      }
    }
  }
}

/**
 * Replace (or, with `exclusive`, create) `path` atomically: readers see the old file or the whole
 * new one, never a partial write. Exclusive creation is `link(temp, path)`, which fails with
 * EEXIST when `path` exists, in one system call (no check-then-rename race).
 */
export async function writeFileAtomic(path: string, data: Buffer | string, options: { exclusive?: boolean } = {}): Promise<void> {
  const temp = await writeTemp(path, data);
  try {
    if (options.exclusive) {
      await link(temp, path);
      await unlink(temp);
    } else {
      await rename(temp, path);
    }
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw error;
  }
}

/** unlink that treats "already gone" as success. */
export async function removeFile(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // ENOTDIR: a parent is a file; EISDIR: the name is a directory of longer keys. Neither is an object.
    if (code !== 'ENOENT' && code !== 'ENOTDIR' && code !== 'EISDIR') throw error;
  }
}
