import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { skipUnlessFuse } from '../helpers/fuse-support.js';

/** `npm run bench -- --quick` end to end: every workload on s3rver and the memory store, small and short. */
const BENCH = fileURLToPath(new URL('../../scripts/bench.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
/** The smoke run takes ~35 s on the 2-vCPU CI machine; the limit leaves room for a busy one. */
const LIMIT_MS = 85_000;

interface Row {
  id: string;
  value: number;
  unit: string;
  ceiling?: { value: number };
  ratio?: number;
  requests?: { puts: number; gets: number; deletes: number };
}

test('bench --quick: exits 0 and writes a JSON document with every expected row, each carrying a number', { timeout: LIMIT_MS + 10_000 }, async (t) => {
  if (skipUnlessFuse(t, { loop: true })) return;
  if (!existsSync('/usr/bin/fio')) {
    console.log('skipping: the bench\'s fio rows need /usr/bin/fio');
    t.skip('fio not installed');
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 's3backer-bench-quick-'));
  try {
    const json = join(dir, 'bench.json');
    const child = spawn(process.execPath, [BENCH, '--quick', `--json=${json}`], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => { output = (output + chunk.toString()).slice(-20_000); };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    // Too slow: SIGTERM lets the bench unmount and detach what it made, SIGKILL if it does not finish that.
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
    }, LIMIT_MS);
    const code = await new Promise<number | null>((resolve) => child.on('exit', (exitCode) => resolve(exitCode)));
    clearTimeout(timer);
    assert.equal(code, 0, `bench --quick exited ${code}:\n${output}`);

    const document = JSON.parse(await readFile(json, 'utf8')) as { expectedRows: string[]; rows: Row[] };
    const stores = new Set(document.expectedRows.map((id) => id.split('/')[0]));
    assert.deepEqual([...stores].sort(), ['memory', 's3rver'], 'both stores are in the quick run');
    for (const workload of ['dd-write', 'dd-read', 'ext4-write', 'ext4-read', 'files-copy', 'files-untar', 'files-read', 'files-rm', 'fio-randread', 'fio-randwrite']) {
      assert.ok(document.expectedRows.some((id) => id.endsWith(`/${workload}`)), `${workload} is among the expected rows`);
    }
    for (const id of document.expectedRows) {
      const row = document.rows.find((candidate) => candidate.id === id);
      assert.ok(row, `row ${id} is in the JSON`);
      assert.ok(Number.isFinite(row.value) && row.value > 0, `row ${id} has a positive figure (${row.value} ${row.unit})`);
      if (row.ceiling) assert.ok(Number.isFinite(row.ratio), `row ${id} has a ratio to its ceiling`);
      if (id.startsWith('s3rver/')) {
        assert.ok(row.requests && [row.requests.puts, row.requests.gets, row.requests.deletes].every(Number.isFinite), `row ${id} counts its S3 requests`);
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
