import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DirStore, dirPlugin } from '../../plugins/dir/index.js';
import { resolveConfig } from '../../src/config/merge-config.js';
import { parseArgv } from '../../src/config/parse-argv.js';
import { s3Plugin } from '../../plugins/s3/index.js';
import { BLOCK_CONTENT_TYPE } from '../../src/engine/object-pipeline.js';
import { Engine } from '../../src/engine/engine.js';
import { isS3BackerError } from '../../src/errors/s3backer-error.js';
import { runBackendConformance } from '../conformance/index.js';
import { testConfig } from '../helpers/test-config.js';

const dirs: string[] = [];
async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 's3b-dir-store-'));
  dirs.push(dir);
  return dir;
}
after(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

runBackendConformance({ test, name: 'dir', factory: async () => new DirStore({ directory: await freshDir() }) });

const md5 = (data: Buffer) => `"${createHash('md5').update(data).digest('hex')}"`;
const exists = (path: string) => stat(path).then(() => true, () => false);

async function opened(options: { defaultContentType?: string } = {}): Promise<{ dir: string; store: DirStore }> {
  const dir = await freshDir();
  const store = new DirStore({ directory: dir, ...options });
  await store.open();
  return { dir, store };
}

test('dir: a raw file written by the C tool (no sidecar) reads back through the store', async () => {
  const { dir, store } = await opened();
  const body = Buffer.alloc(4096, 0x5a);
  await writeFile(join(dir, '0000002a'), body);
  await mkdir(join(dir, 'vol1'));
  await writeFile(join(dir, 'vol1', '0000002b'), body.subarray(0, 512));
  const got = await store.get('0000002a');
  assert.ok(got);
  assert.ok(got.body.equals(body));
  assert.equal(got.etag, md5(body));
  assert.deepEqual(got.metadata, {});
  assert.equal(got.contentEncoding, undefined);
  assert.equal((await store.head('vol1/0000002b'))?.size, 512);
  const keys: string[] = [];
  for await (const key of store.list()) keys.push(key);
  assert.deepEqual(keys, ['0000002a', 'vol1/0000002b']);
  await store.close();
});

test('dir: an object without metadata is a bare file at <dir>/<key> and creates no sidecar', async () => {
  const { dir, store } = await opened({ defaultContentType: BLOCK_CONTENT_TYPE });
  const body = Buffer.alloc(4096, 7);
  const { etag } = await store.put('vol1/0000002a', body, { contentType: BLOCK_CONTENT_TYPE, metadata: {} });
  assert.equal(etag, md5(body));
  assert.ok((await readFile(join(dir, 'vol1', '0000002a'))).equals(body), 'the file holds the raw body');
  assert.equal(await exists(join(dir, '.s3backer-meta')), false, 'no sidecar directory');
  assert.deepEqual(await readdir(join(dir, 'vol1')), ['0000002a'], 'no temp files left behind');
  // The default content type is reported though not recorded, as S3 reports a default type.
  assert.equal((await store.head('vol1/0000002a'))?.contentType, BLOCK_CONTENT_TYPE);
  await store.close();
});

test('dir: metadata lives in a sidecar that goes away when an overwrite has none', async () => {
  const { dir, store } = await opened();
  const sidecar = join(dir, '.s3backer-meta', 'vol1', '00000000.json');
  await store.put('vol1/00000000', Buffer.alloc(512, 1), { metadata: { 's3backer-blocksize': '512' } });
  assert.ok(await exists(sidecar));
  assert.ok((await readFile(join(dir, 'vol1', '00000000'))).equals(Buffer.alloc(512, 1)), 'the body stays raw');
  await store.put('vol1/00000000', Buffer.alloc(512, 2));
  assert.equal(await exists(sidecar), false);
  await store.put('vol1/00000000', Buffer.alloc(512, 3), { contentEncoding: 'deflate' });
  assert.ok(await exists(sidecar));
  await store.delete('vol1/00000000');
  assert.equal(await exists(sidecar), false);
  assert.equal(await exists(join(dir, 'vol1', '00000000')), false);
  await store.close();
});

test('dir: after a crash between sidecar and body rename, each body reads with its own metadata', async () => {
  const { dir, store } = await opened();
  const oldBody = Buffer.alloc(512, 1);
  const newBody = Buffer.alloc(512, 2);
  await store.put('0000002a', oldBody, { metadata: { v: 'old' } });
  // What put() leaves if the process dies after writing the sidecar and before renaming the body:
  // the sidecar has entries for both bodies, the old body is still in place.
  const sidecarPath = join(dir, '.s3backer-meta', '0000002a.json');
  const sidecar = JSON.parse(await readFile(sidecarPath, 'utf8')) as { entries: Record<string, unknown> };
  sidecar.entries[md5(newBody).slice(1, -1)] = { metadata: { v: 'new' }, contentEncoding: 'deflate' };
  await writeFile(sidecarPath, JSON.stringify(sidecar));
  let got = await store.get('0000002a');
  assert.deepEqual(got?.metadata, { v: 'old' });
  assert.equal(got?.contentEncoding, undefined);
  // ... and if it died after the rename but before the sidecar was trimmed:
  await writeFile(join(dir, '0000002a'), newBody);
  got = await store.get('0000002a');
  assert.deepEqual(got?.metadata, { v: 'new' });
  assert.equal(got?.contentEncoding, 'deflate');
  // A body the sidecar does not describe has no metadata.
  await writeFile(join(dir, '0000002a'), Buffer.alloc(512, 3));
  assert.deepEqual((await store.get('0000002a'))?.metadata, {});
  // The next put trims the sidecar to its one entry.
  await store.put('0000002a', newBody, { metadata: { v: 'newest' } });
  const trimmed = JSON.parse(await readFile(sidecarPath, 'utf8')) as { entries: Record<string, unknown> };
  assert.deepEqual(Object.keys(trimmed.entries), [md5(newBody).slice(1, -1)]);
  await store.close();
});

test('dir: list skips temp files (C and ours) and the sidecar directory', async () => {
  const { dir, store } = await opened();
  await store.put('0000002a', Buffer.from('a'), { metadata: { x: '1' } });
  await writeFile(join(dir, '0000002a.Ab3dE9'), 'leftover of an interrupted write');
  await writeFile(join(dir, '0000002b.zzzzzz'), 'leftover');
  const keys: string[] = [];
  for await (const key of store.list()) keys.push(key);
  assert.deepEqual(keys, ['0000002a']);
  await store.close();
});

test('dir: list order is S3\'s byte order across "directories" (\'-\' < \'.\' < \'/\' < \'0\')', async () => {
  const { store } = await opened();
  for (const key of ['k/a0', 'k/a/c', 'k/a.b', 'k/a-b', 'k/a/b', 'k/a']) {
    // 'k/a' cannot be a file next to the directory 'k/a'; that one key is the exception to S3.
    if (key !== 'k/a') await store.put(key, Buffer.from(key));
  }
  const list = async (options: { prefix?: string; startAfter?: string } = {}) => {
    const keys: string[] = [];
    for await (const key of store.list(options)) keys.push(key);
    return keys;
  };
  assert.deepEqual(await list(), ['k/a-b', 'k/a.b', 'k/a/b', 'k/a/c', 'k/a0']);
  assert.deepEqual(await list({ prefix: 'k/a' }), ['k/a-b', 'k/a.b', 'k/a/b', 'k/a/c', 'k/a0']);
  assert.deepEqual(await list({ startAfter: 'k/a.b' }), ['k/a/b', 'k/a/c', 'k/a0']);
  assert.deepEqual(await list({ startAfter: 'k/a-' }), ['k/a-b', 'k/a.b', 'k/a/b', 'k/a/c', 'k/a0']);
  assert.deepEqual(await list({ startAfter: 'k/a/b' }), ['k/a/c', 'k/a0']);
  await store.close();
});

test('dir: open() fails with S3B_BUCKET_NOT_FOUND for a missing directory or a file', async () => {
  const dir = await freshDir();
  const missing = new DirStore({ directory: join(dir, 'nope') });
  await assert.rejects(missing.open(), (error: unknown) => isS3BackerError(error, 'S3B_BUCKET_NOT_FOUND') && /does not exist/.test(error.message) && /create it/.test(error.message));
  await writeFile(join(dir, 'file'), 'x');
  await assert.rejects(new DirStore({ directory: join(dir, 'file') }).open(), (error: unknown) => isS3BackerError(error, 'S3B_BUCKET_NOT_FOUND'));
});

test('dir: names that cannot be files of this layout are refused with S3B_CONFIG_INVALID', async () => {
  const { store } = await opened();
  for (const key of ['../escape', 'a//b', 'a/./b', '/abs', '.s3backer-meta/x', 'x.abcdef', 'trailing/']) {
    await assert.rejects(store.put(key, Buffer.from('x')), (error: unknown) => isS3BackerError(error, 'S3B_CONFIG_INVALID'), key);
  }
  await store.close();
});

test('dir: description is file://<absolute dir>/', async () => {
  const dir = await freshDir();
  assert.equal(new DirStore({ directory: dir }).description, `file://${dir}/`);
});

test('dir plugin: provides the store for --store=dir and --test, and not for s3', async () => {
  const dir = await freshDir();
  // --test reaches the plugin as store: 'dir' through the config layer, as on the command line.
  for (const argv of [['--store=dir', dir, '/m'], ['--test', dir, '/m']]) {
    const { config } = resolveConfig({ cli: parseArgv(argv), file: null });
    const engine = Engine.create(config, [dirPlugin(), s3Plugin()]);
    const store = await engine.hooks.createBackend.promise(config);
    assert.ok(store instanceof DirStore, argv.join(' '));
    assert.equal(store.description, `file://${dir}/`);
  }
  const s3Config = testConfig({ store: 's3', bucket: dir });
  assert.equal(await Engine.create(s3Config, [dirPlugin()]).hooks.createBackend.promise(s3Config), undefined);
});
