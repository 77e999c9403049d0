// The small-file rows' inputs, the same in every run (sizes and bytes from a seed, no download):
// a directory of `copyFiles` files of 0.5–16 KiB in directories of 100, and a tar of a tree of
// `treeFiles` files (log-uniform 256 B–32 KiB, as a source tree's sizes spread) in three levels,
// written by GNU tar with sorted names, fixed times and owners, so the archive is byte-for-byte
// the same too. Both live on tmpfs: reading them is never what a row measures.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { seededRandom } from '../../plugins/chaos/seeded-random.js';
import type { SmallFileSettings } from './bench-options.js';
import { mustRunTracked } from './run-tracked.js';

export interface SmallFileSets {
  /** Directory holding the files the copy row copies (as `copy/`). */
  copyDir: string;
  copyFiles: number;
  copyBytes: number;
  /** The tree's archive; it unpacks as `tree/`. */
  tarPath: string;
  treeFiles: number;
  treeBytes: number;
  /** Directories in both (for the inode count the file system needs). */
  directories: number;
}

/** Text-like bytes (64 symbols, lines of 64): compressible as source files are, so --compress has something to do. */
const ALPHABET = Buffer.from('abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.;(){}');

function fileBytes(random: () => number, size: number): Buffer {
  const bytes = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) bytes[i] = i % 64 === 63 ? 0x0a : ALPHABET[Math.floor(random() * 64)]!;
  return bytes;
}

/** Write `count` files under `root`, `perDirectory` to a directory, the directory path from `dirOf`; returns bytes and directories. */
async function writeFiles(root: string, count: number, perDirectory: number, size: (random: () => number) => number, random: () => number,
  dirOf: (index: number) => string): Promise<{ bytes: number; directories: number }> {
  let bytes = 0;
  const made = new Set<string>();
  for (let i = 0; i < count; i++) {
    const dir = join(root, dirOf(Math.floor(i / perDirectory)));
    if (!made.has(dir)) {
      await mkdir(dir, { recursive: true });
      made.add(dir);
    }
    const data = fileBytes(random, size(random));
    await writeFile(join(dir, `f${String(i % perDirectory).padStart(3, '0')}.txt`), data);
    bytes += data.length;
  }
  return { bytes, directories: made.size };
}

export async function makeSmallFileSets(dir: string, settings: SmallFileSettings): Promise<SmallFileSets> {
  const random = seededRandom(settings.seed);
  const copyDir = join(dir, 'copy');
  const copy = await writeFiles(copyDir, settings.copyFiles, 100, (r) => 512 + Math.floor(r() * (16 * 1024 - 512 + 1)), random,
    (d) => `d${String(d).padStart(2, '0')}`);
  // A source tree's shape: ten top directories, ten below each, up to 60 files in each of those.
  const treeDir = join(dir, 'tree');
  const tree = await writeFiles(treeDir, settings.treeFiles, 60, (r) => Math.round(256 * 2 ** (r() * 7)), random,
    (d) => join(`top${d % 10}`, `sub${Math.floor(d / 10)}`));
  const tarPath = join(dir, 'tree.tar');
  await mustRunTracked('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '--format=gnu', '-cf', tarPath, '-C', dir, 'tree']);
  await rm(treeDir, { recursive: true, force: true });
  return {
    copyDir, copyFiles: settings.copyFiles, copyBytes: copy.bytes,
    tarPath, treeFiles: settings.treeFiles, treeBytes: tree.bytes,
    directories: copy.directories + tree.directories + 10,
  };
}
