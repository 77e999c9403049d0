import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { watch } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigFile } from '../../src/config/load-config-file.js';
import { defineConfig } from '../../src/config/define-config.js';
import { S3BackerError } from '../../src/errors/s3backer-error.js';

// Every fixture lives outside the repository (no node_modules above it): `from 's3backer'` must
// resolve to this installation through the loader's aliases, not through node_modules.
const cleanups: string[] = [];
after(async () => {
  for (const dir of cleanups) {
    await chmod(dir, 0o755).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
});

async function tempDir(files: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 's3backer-config-'));
  cleanups.push(dir);
  for (const [name, content] of Object.entries(files)) {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await writeFile(join(dir, name), content);
  }
  return dir;
}

async function rejectsWith(promise: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof S3BackerError, `expected an S3BackerError, got ${String(error)}`);
    assert.equal(error.code, 'S3B_CONFIG_FILE');
    assert.match(error.message, message);
    return true;
  });
}

const TS_CONFIG = `
import { defineConfig, type UserConfig } from 's3backer';

interface Volume { name: string; gigabytes: number }
const volume: Volume = { name: 'disk1', gigabytes: 100 };
const base = { region: 'eu-west-1' } as const satisfies UserConfig;

export default defineConfig({
  ...base,
  bucket: \`my-bucket/\${volume.name}\`,
  size: \`\${volume.gigabytes}g\`,
  blockSize: '1m' as string,
  readOnly: <boolean>false,
});
`;

test('a TypeScript config in a read-only directory outside the project loads and writes nothing', { timeout: 30_000 }, async () => {
  const dir = await tempDir({ 's3backer.config.ts': TS_CONFIG });
  await chmod(join(dir, 's3backer.config.ts'), 0o555);
  await chmod(dir, 0o555);
  const before = await readdir(dir);
  // Watch too: a loader that writes a temporary file beside the config and deletes it afterwards
  // (cosmiconfig's own TS loader) leaves the listing unchanged but not the event stream.
  const events: string[] = [];
  const watcher = watch(dir, (event, name) => events.push(`${event} ${String(name)}`));
  let loaded;
  try {
    loaded = await loadConfigFile({ cwd: dir, command: 'mount' });
    await new Promise((resolve) => setTimeout(resolve, 50));
  } finally {
    watcher.close();
  }
  assert.deepEqual(loaded, {
    config: { region: 'eu-west-1', bucket: 'my-bucket/disk1', size: '100g', blockSize: '1m', readOnly: false },
    filepath: join(dir, 's3backer.config.ts'),
  });
  // Tests run as root, for whom mode 0555 does not stop writes: check that nothing was written.
  assert.deepEqual(await readdir(dir), before);
  assert.deepEqual(events, [], 'no file was created in the config\'s directory, not even for a moment');
});

test('"s3backer" resolves to the running installation, sharing its module instances', { timeout: 30_000 }, async () => {
  const dir = await tempDir({
    's3backer.config.mts': `import { defineConfig } from 's3backer';\nexport default { bucket: 'b', marker: defineConfig } as any;\n`,
  });
  const loaded = await loadConfigFile({ cwd: dir, command: 'mount' });
  assert.equal((loaded?.config as { marker?: unknown }).marker, defineConfig);
});

test('"s3backer/plugins" resolves to the installation too', { timeout: 30_000 }, async () => {
  const pluginsIndex = fileURLToPath(new URL('../../plugins/index.js', import.meta.url));
  const dir = await tempDir({
    's3backer.config.ts': `import * as plugins from 's3backer/plugins';\nexport default { bucket: 'b', marker: plugins };\n`,
  });
  const loaded = await loadConfigFile({ cwd: dir, command: 'mount' });
  const native: unknown = await import(pluginsIndex);
  const marker = (loaded?.config as { marker?: Record<string, unknown> }).marker!;
  assert.ok(Object.keys(native as object).length > 0);
  for (const [name, value] of Object.entries(native as Record<string, unknown>)) assert.equal(marker[name], value, name);
});

test('a function config receives { command }; promises are awaited', { timeout: 30_000 }, async () => {
  const dir = await tempDir({
    's3backer.config.js': `import { defineConfig } from 's3backer';
export default defineConfig(async ({ command }) => ({ bucket: 'b', readOnly: command !== 'mount', quiet: command === 'erase' }));
`,
  });
  assert.deepEqual((await loadConfigFile({ cwd: dir, command: 'mount' }))?.config, { bucket: 'b', readOnly: false, quiet: false });
  assert.deepEqual((await loadConfigFile({ cwd: dir, command: 'erase' }))?.config, { bucket: 'b', readOnly: true, quiet: true });
  assert.deepEqual((await loadConfigFile({ cwd: dir, command: 'reset-mounted-flag' }))?.config, { bucket: 'b', readOnly: true, quiet: false });

  const promised = await tempDir({ 's3backer.config.mjs': `export default Promise.resolve({ bucket: 'p' });\n` });
  assert.deepEqual((await loadConfigFile({ cwd: promised, command: 'mount' }))?.config, { bucket: 'p' });
});

test('search order: s3backer.config.ts first, then .mts, .mjs, .js, .s3backerrc.json, .s3backerrc', { timeout: 30_000 }, async () => {
  const dir = await tempDir({
    's3backer.config.ts': `export default { bucket: 'ts' };`,
    's3backer.config.mjs': `export default { bucket: 'mjs' };`,
    '.s3backerrc.json': `{ "bucket": "json" }`,
    '.s3backerrc': `{ "bucket": "rc" }`,
  });
  assert.equal((await loadConfigFile({ cwd: dir, command: 'mount' }))?.config.bucket, 'ts');
  await rm(join(dir, 's3backer.config.ts'));
  assert.equal((await loadConfigFile({ cwd: dir, command: 'mount' }))?.config.bucket, 'mjs', 'no stale cache of the removed file');
  await rm(join(dir, 's3backer.config.mjs'));
  const json = await loadConfigFile({ cwd: dir, command: 'mount' });
  assert.deepEqual(json, { config: { bucket: 'json' }, filepath: join(dir, '.s3backerrc.json') });
  await rm(join(dir, '.s3backerrc.json'));
  assert.equal((await loadConfigFile({ cwd: dir, command: 'mount' }))?.config.bucket, 'rc', '.s3backerrc is JSON');
});

test('searchStrategy none: nothing in the directory means null, even with a config in the parent', { timeout: 30_000 }, async () => {
  const parent = await tempDir({
    's3backer.config.mjs': `export default { bucket: 'parent' };`,
    'child/README': 'no config here',
  });
  assert.equal(await loadConfigFile({ cwd: join(parent, 'child'), command: 'mount' }), null);
  assert.notEqual(await loadConfigFile({ cwd: parent, command: 'mount' }), null, 'the parent\'s own search does find it');
  // No package.json lookup either.
  const pkg = await tempDir({ 'package.json': JSON.stringify({ name: 'x', s3backer: { bucket: 'pkg' } }) });
  assert.equal(await loadConfigFile({ cwd: pkg, command: 'mount' }), null);
});

test('--config: an explicit path (relative to cwd) loads any name; a missing one is an error', { timeout: 30_000 }, async () => {
  const dir = await tempDir({ 'etc/disk1.config.ts': `const b: string = 'explicit';\nexport default { bucket: b };\n` });
  const loaded = await loadConfigFile({ cwd: dir, explicitPath: 'etc/disk1.config.ts', command: 'mount' });
  assert.deepEqual(loaded, { config: { bucket: 'explicit' }, filepath: join(dir, 'etc/disk1.config.ts') });
  await rejectsWith(loadConfigFile({ cwd: dir, explicitPath: 'missing.config.ts', command: 'mount' }),
    new RegExp(`cannot load config file "${join(dir, 'missing.config.ts')}": .*ENOENT.*; check the --config path`));
});

test('a syntax error is S3B_CONFIG_FILE naming the file and keeping the cause', { timeout: 30_000 }, async () => {
  const dir = await tempDir({ 's3backer.config.ts': `export default { bucket: 'b', ;\n` });
  await assert.rejects(loadConfigFile({ cwd: dir, command: 'mount' }), (error: unknown) => {
    assert.ok(error instanceof S3BackerError);
    assert.equal(error.code, 'S3B_CONFIG_FILE');
    assert.ok(error.message.includes(join(dir, 's3backer.config.ts')), error.message);
    assert.ok(error.cause instanceof Error, 'the cause is kept');
    return true;
  });
  const json = await tempDir({ '.s3backerrc.json': `{ "bucket": ` });
  await rejectsWith(loadConfigFile({ cwd: json, command: 'mount' }), /cannot load config file ".*\.s3backerrc\.json": .*JSON/);
});

test('a config that throws, imports something missing or exports a non-object is S3B_CONFIG_FILE', { timeout: 30_000 }, async () => {
  const throws = await tempDir({ 's3backer.config.ts': `throw new Error('boom');\nexport default {};\n` });
  await rejectsWith(loadConfigFile({ cwd: throws, command: 'mount' }), /s3backer\.config\.ts": boom;/);
  const fnThrows = await tempDir({ 's3backer.config.mjs': `export default () => { throw new Error('fn boom'); };\n` });
  await rejectsWith(loadConfigFile({ cwd: fnThrows, command: 'mount' }), /fn boom/);
  const rejects = await tempDir({ 's3backer.config.mjs': `export default async () => { throw new Error('async boom'); };\n` });
  await rejectsWith(loadConfigFile({ cwd: rejects, command: 'mount' }), /async boom/);
  const missing = await tempDir({ 's3backer.config.ts': `import { x } from './nope.js';\nexport default { bucket: x };\n` });
  await rejectsWith(loadConfigFile({ cwd: missing, command: 'mount' }), /nope/);
  const notObject = await tempDir({ 's3backer.config.mjs': `export default 42;\n` });
  await rejectsWith(loadConfigFile({ cwd: notObject, command: 'mount' }), /must export an object .*not number; write `export default defineConfig/);
  const array = await tempDir({ '.s3backerrc.json': `[1]` });
  await rejectsWith(loadConfigFile({ cwd: array, command: 'mount' }), /not an array/);
});

test('an empty explicit file configures nothing', { timeout: 30_000 }, async () => {
  const dir = await tempDir({ 'empty.config.ts': '' });
  assert.deepEqual(await loadConfigFile({ cwd: dir, explicitPath: 'empty.config.ts', command: 'mount' }),
    { config: {}, filepath: join(dir, 'empty.config.ts') });
});

test('defineConfig is the identity; its types reject wrong configs at compile time', { timeout: 30_000 }, () => {
  const object = { bucket: 'b', size: '64k', blockSize: 4096, plugins: [false as const, null, undefined] };
  assert.equal(defineConfig(object), object);
  const fn = ({ command }: { command: string }) => ({ readOnly: command === 'erase' });
  assert.equal(defineConfig(fn), fn);
  const promise = Promise.resolve({});
  assert.equal(defineConfig(promise), promise);
  // These lines fail the build if the types stop catching the mistake.
  // @ts-expect-error unknown key
  defineConfig({ blocksize: '1m' });
  // @ts-expect-error command-line-only flags are not config keys
  defineConfig({ erase: true });
  // @ts-expect-error only sizes accept strings
  defineConfig({ timeout: '30' });
  // @ts-expect-error enum values are checked
  defineConfig({ accessType: 'world-writable' });
  // @ts-expect-error a disabled entry is [plugin, boolean]
  defineConfig({ plugins: [[{ name: 'p', apply() {} }, 'no']] });
  // @ts-expect-error the env's command is one of three
  defineConfig(({ command }) => ({ readOnly: command === 'list' }));
});
