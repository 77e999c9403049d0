import { mkdir, writeFile, readFile, readdir } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';

/** Hex SHA-256 of some bytes: how the tests compare what was written with what came back. */
export const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** A tree of files with random content and sizes from 0 bytes to 3 MiB, some nested. */
export async function writeTree(root: string, count = 24, name = 'file'): Promise<Map<string, string>> {
  const sums = new Map<string, string>();
  const sizes = [0, 1, 511, 4096, 4097, 65_536, 100_000, 1 << 20, 3 * (1 << 20) + 7];
  for (let i = 0; i < count; i++) {
    const dir = join(root, `dir${i % 4}`, i % 3 === 0 ? 'deeper' : '');
    await mkdir(dir, { recursive: true });
    const data = randomBytes(sizes[i % sizes.length]!);
    const path = join(dir, `${name}${i}.bin`);
    await writeFile(path, data);
    sums.set(path.slice(root.length), sha256(data));
  }
  return sums;
}

export async function hashTree(root: string, relative = ''): Promise<Map<string, string>> {
  const sums = new Map<string, string>();
  for (const entry of await readdir(join(root, relative), { withFileTypes: true })) {
    const path = join(relative, entry.name);
    if (entry.name === 'lost+found') continue;
    if (entry.isDirectory()) for (const [k, v] of await hashTree(root, path)) sums.set(k, v);
    else sums.set('/' + path, sha256(await readFile(join(root, path))));
  }
  return sums;
}
