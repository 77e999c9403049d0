import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCommand, mustRun } from '../helpers/run-command.js';
import { serveVolume, TEST_EXPORT_NAME, type ServedVolume } from '../helpers/nbd-served-volume.js';
import { skipUnlessTools } from '../helpers/nbd-tools.js';

/** The one export nbdinfo --json describes. */
async function describe(uri: string): Promise<Record<string, unknown> & { structured: boolean }> {
  const report = JSON.parse(await mustRun('nbdinfo', ['--json', uri], { timeoutMs: 20_000 })) as { structured: boolean; protocol: string; exports: Array<Record<string, unknown>> };
  assert.equal(report.protocol, 'newstyle-fixed');
  assert.equal(report.exports.length, 1);
  return { ...report.exports[0]!, structured: report.structured };
}

/** What a read-write 64 MiB volume of 64 KiB blocks must look like to a client. */
function assertReadWriteExport(info: Record<string, unknown>): void {
  assert.equal(info['export-size'], 64 << 20);
  assert.equal(info['export-name'], TEST_EXPORT_NAME);
  assert.equal(info.description, 's3backer volume');
  assert.equal(info.is_read_only, false);
  for (const capability of ['can_flush', 'can_fua', 'can_trim', 'can_zero', 'can_multi_conn']) assert.equal(info[capability], true, capability);
  // Structured replies were negotiated, so "don't fragment" is offered; fast zero and cache are not.
  assert.equal(info.structured, true);
  assert.equal(info.can_df, true);
  assert.equal(info.can_fast_zero, false);
  assert.equal(info.block_size_minimum, 1);
  assert.equal(info.block_size_preferred, 64 << 10);
  assert.equal(info.block_size_maximum, 32 << 20);
}

async function withVolume(options: Parameters<typeof serveVolume>[0], body: (volume: ServedVolume) => Promise<void>): Promise<void> {
  const volume = await serveVolume(options);
  try {
    await body(volume);
  } finally {
    await volume.stop();
  }
}

test('nbdinfo over a Unix socket: size, block sizes and every capability of a read-write export', { timeout: 30_000 }, async (t) => {
  if (skipUnlessTools(t, ['nbdinfo'])) return;
  await withVolume({}, async (volume) => {
    assertReadWriteExport(await describe(volume.uri));
    // The empty name selects the one export too (the protocol's default export).
    assert.equal((await describe(`nbd+unix:///?socket=${volume.socketPath}`))['export-name'], TEST_EXPORT_NAME);
    // Another name is refused with NBD_REP_ERR_UNKNOWN (libnbd says ENOENT) and our reason, which
    // libnbd shows in its debug output.
    const wrong = await runCommand('nbdinfo', ['--json', `nbd+unix:///other?socket=${volume.socketPath}`], { timeoutMs: 20_000, env: { ...process.env, LIBNBD_DEBUG: '1' } });
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /server replied with error to opt_go request: No such file or directory/);
    assert.match(wrong.stderr, /server error message: no export named "other"/);
    // NBD_OPT_LIST names it.
    const list = JSON.parse(await mustRun('nbdinfo', ['--list', '--json', volume.uri], { timeoutMs: 20_000 })) as { exports: Array<Record<string, unknown>> };
    assert.deepEqual(list.exports.map((e) => e['export-name']), [TEST_EXPORT_NAME]);
  });
});

test('nbdinfo over TCP on 127.0.0.1 (a free port): the same export', { timeout: 30_000 }, async (t) => {
  if (skipUnlessTools(t, ['nbdinfo'])) return;
  await withVolume({ transport: 'tcp' }, async (volume) => {
    assert.match(volume.uri, /^nbd:\/\/127\.0\.0\.1:\d+\/test-volume$/);
    assertReadWriteExport(await describe(volume.uri));
  });
});

test('nbdinfo: a read-only export says so; a smaller request limit is the advertised maximum', { timeout: 30_000 }, async (t) => {
  if (skipUnlessTools(t, ['nbdinfo'])) return;
  await withVolume({ frontend: { readOnly: true, maxRequestBytes: 1 << 20, exportDescription: 'a test disk' } }, async (volume) => {
    const info = await describe(volume.uri);
    assert.equal(info.is_read_only, true);
    assert.equal(info.block_size_maximum, 1 << 20);
    assert.equal(info.description, 'a test disk');
  });
  // A device mounted read-only is exported read-only without being told.
  await withVolume({ config: { readOnly: true } }, async (volume) => {
    assert.equal((await describe(volume.uri)).is_read_only, true);
  });
});
