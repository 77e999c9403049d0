#!/usr/bin/env node
// Runs the compiled tests with node's own runner (its closing summary is what CI reads).
// Usage: node scripts/run-tests.mjs [substring-filter ...]
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const testDir = join(root, 'dist', 'test');
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith('.test.js')) files.push(path);
  }
})(testDir);
const filters = process.argv.slice(2);
const selected = files.filter((f) => filters.length === 0 || filters.some((s) => relative(root, f).includes(s)));
if (selected.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}
// One file at a time: FUSE and loop-device tests share kernel resources and a 2-core machine.
const result = spawnSync(process.execPath, ['--enable-source-maps', '--test', '--test-concurrency=1', ...selected], { stdio: 'inherit', cwd: root });
process.exit(result.status ?? 1);
