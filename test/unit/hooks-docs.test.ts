import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { HOOK_DOCS, hooksTable, withHooksTable } from '../../src/engine/hooks-docs.js';
import { createEngineHooks } from '../../src/engine/hooks.js';

const PLUGINS_MD = new URL('../../../docs/plugins.md', import.meta.url);

test('docs/plugins.md has the hook table the hook declarations generate (run `npm run docs` after changing hooks)', { timeout: 5_000 }, () => {
  const onDisk = readFileSync(PLUGINS_MD, 'utf8');
  assert.ok(onDisk === withHooksTable(onDisk), 'the hook table in docs/plugins.md is stale: run `npm run docs` and commit the result');
});

test('every hook has a row, with the kind of the hook object itself', { timeout: 5_000 }, () => {
  const table = hooksTable();
  assert.deepEqual(Object.keys(HOOK_DOCS).sort(), Object.keys(createEngineHooks()).sort());
  assert.match(table, /^\| `readBlock` \| AsyncSeriesBail \|/m);
  assert.match(table, /^\| `decode\.for\(key\)` \| HookMap of AsyncSeriesWaterfall \|/m);
  assert.equal(table.trim().split('\n').length, Object.keys(HOOK_DOCS).length + 2);
});
