import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EraseProgress } from '../../src/cli/erase-progress.js';

function recorder(): { write(text: string): boolean; text: string } {
  const out = { text: '', write(text: string) { out.text += text; return true; } };
  return out;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Wait (at most 3 s, for a loaded machine) until the timer has written what `done` looks for. */
async function until(done: () => boolean): Promise<void> {
  for (let waited = 0; !done() && waited < 3000; waited += 5) await sleep(5);
}

test('erase progress on a terminal: one line redrawn in place, ended when it stops', { timeout: 5_000 }, async () => {
  const out = recorder();
  let now = 0;
  const progress = new EraseProgress(out, { terminal: true, redrawMs: 10, now: () => now });
  progress.found(1000);
  progress.deleted(400);
  now = 2000;
  await until(() => out.text !== '');
  assert.match(out.text, /^\r\x1b\[Kerase: 1000 blocks found so far, 400 deleted, 200 blocks\/s$/);
  progress.found(500);
  progress.listingDone();
  progress.deleted(1100);
  progress.failed(2);
  now = 3000;
  progress.stop();
  assert.ok(out.text.endsWith('\r\x1b[Kerase: 1500 blocks found, 1500 deleted, 2 failed, 500 blocks/s\n'), JSON.stringify(out.text));
  assert.ok(!out.text.slice(0, -1).includes('\n'), 'no new line until it stops');
});

test('erase progress elsewhere: plain lines, only when something moved', { timeout: 5_000 }, async () => {
  const out = recorder();
  let now = 0;
  const progress = new EraseProgress(out, { terminal: false, intervalMs: 10, now: () => now });
  progress.found(3);
  now = 1000;
  await until(() => out.text !== '');
  await sleep(50);
  progress.deleted(3);
  progress.listingDone();
  await until(() => out.text.split('\n').length > 2);
  await sleep(50);
  progress.stop();
  assert.deepEqual(out.text.split('\n').filter(Boolean), [
    's3backer: erase: 3 blocks found so far, 0 deleted, 0 blocks/s',
    's3backer: erase: 3 blocks found, 3 deleted, 3 blocks/s',
  ]);
});

test('erase progress shows nothing for an erase that ends before the first redraw', () => {
  const out = recorder();
  const progress = new EraseProgress(out, { terminal: true });
  progress.found(1);
  progress.deleted(1);
  progress.stop();
  assert.equal(out.text, '');
});
