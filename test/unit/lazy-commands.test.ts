import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

/**
 * Load what a command needs when it needs it: `--help` and `--version` load no AWS SDK, no FUSE
 * binding and no codec library (a broken FUSE install must not break `--help`).
 */
const MAIN = JSON.stringify(new URL('../../src/cli/main.js', import.meta.url).href);
const HEAVY = /@aws-sdk|@smithy|fuse-native|fuse-shared-library|lz4-napi|zstd-napi/;

for (const flag of ['--help', '--version']) {
  test(`${flag} loads no SDK, no FUSE and no codec library`, { timeout: 20_000 }, () => {
    const script = `
      import { createRequire } from 'node:module';
      const cli = await import(${MAIN});
      const write = process.stdout.write.bind(process.stdout);
      process.stdout.write = () => true;
      const code = await cli.run([${JSON.stringify(flag)}]);
      process.stdout.write = write;
      console.log(JSON.stringify({ code, loaded: Object.keys(createRequire(import.meta.url).cache) }));`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    const { code, loaded } = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as { code: number; loaded: string[] };
    assert.equal(code, 0);
    assert.deepEqual(loaded.filter((path) => HEAVY.test(path)), []);
  });
}

test('a mount does load them (the check above can see a load)', { timeout: 20_000 }, () => {
  const script = `
    import { createRequire } from 'node:module';
    await import(${JSON.stringify(new URL('../../src/cli/commands/mount.js', import.meta.url).href)});
    console.log(JSON.stringify(Object.keys(createRequire(import.meta.url).cache)));`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr);
  const loaded = JSON.parse(child.stdout) as string[];
  assert.ok(loaded.some((path) => /fuse-native/.test(path)), 'the FUSE binding');
  assert.ok(loaded.some((path) => /@aws-sdk/.test(path)), 'the AWS SDK');
});

test('NBD serving never loads FUSE (a machine without libfuse or the built addon can serve NBD)', { timeout: 30_000 }, () => {
  // A listen address that cannot be bound: the command loads everything it needs, then fails.
  const script = `
    import { createRequire } from 'node:module';
    const cli = await import(${MAIN});
    const code = await cli.run(['-f', '--store=memory', '--size=1m', '--nbd-listen=unix:/nonexistent-directory/x.sock', 'volume']).catch((error) => error.code);
    console.log(JSON.stringify({ code, loaded: Object.keys(createRequire(import.meta.url).cache) }));`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  const { code, loaded } = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as { code: unknown; loaded: string[] };
  assert.notEqual(code, 0, 'the bind must fail');
  assert.deepEqual(loaded.filter((path) => /fuse-native|fuse-shared-library/.test(path)), []);
});
