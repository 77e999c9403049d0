import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { after, test } from 'node:test';
import { DirStore, dirPlugin } from '../../plugins/dir/index.js';
import { DirectorySync } from '../../plugins/dir/directory-sync.js';
import { TEMP_NAME_PATTERN } from '../../plugins/dir/durable-files.js';
import { nodeFsOps, type FileOps, type FsOps } from '../../plugins/dir/fs-ops.js';
import { resolveConfig } from '../../src/config/merge-config.js';
import { parseArgv } from '../../src/config/parse-argv.js';
import { s3Plugin } from '../../plugins/s3/index.js';
import { BLOCK_CONTENT_TYPE } from '../../src/engine/object-pipeline.js';
import { Engine } from '../../src/engine/engine.js';
import { isS3BackerError } from '../../src/errors/s3backer-error.js';
import { runBackendConformance } from '../conformance/index.js';
import { mustRun } from '../helpers/run-command.js';
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
    const store = await engine.openStore();
    assert.ok(store instanceof DirStore, argv.join(' '));
    assert.equal(store.description, `file://${dir}/`);
    await store.close();
  }
  const s3Config = testConfig({ store: 's3', bucket: dir });
  await assert.rejects(Engine.create(s3Config, [dirPlugin()]).openStore(), (error) =>
    isS3BackerError(error, 'S3B_NO_BACKEND') && /no plugin provides a store named "s3"; choose one of: --store=dir/.test((error as Error).message));
});

// ---- Durability: what reaches the disk, in which order, and what a failure leaves behind ----

/** Temp files (ours or the C tool's `<name>.XXXXXX`) anywhere under `dir`. */
async function tempFiles(dir: string): Promise<string[]> {
  const names = await readdir(dir, { recursive: true });
  return names.filter((name) => TEMP_NAME_PATTERN.test(basename(name))).sort();
}

function errnoError(code: string, what: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected failure, ${what}`), { code });
}

/**
 * node's fs calls, each logged as "<call> <path relative to root>" with temp suffixes shown as
 * .XXXXXX: write, fsync (a file handle), fsync-dir (a handle opened read-only, which is how the
 * store syncs a directory), rename, link, unlink, mkdir. failOnce makes the next call with that log
 * entry fail with an errno error (a failing write first writes half its data, as a full disk
 * does) and returns that error. Closes are not logged but can be failed as "close <path>".
 */
function recordingFs(root: string) {
  const log: string[] = [];
  const failures: { entry: string; error: NodeJS.ErrnoException }[] = [];
  const name = (path: string) => (relative(root, path) || '.').replace(TEMP_NAME_PATTERN, '.XXXXXX');
  const step = (entry: string, logged = true): NodeJS.ErrnoException | undefined => {
    if (logged) log.push(entry);
    const index = failures.findIndex((failure) => failure.entry === entry);
    return index < 0 ? undefined : failures.splice(index, 1)[0]!.error;
  };
  const call = async (entry: string, real: () => Promise<unknown>) => {
    const failure = step(entry);
    if (failure) throw failure;
    await real();
  };
  const fs: FsOps = {
    async open(path, flags, mode) {
      const file = await nodeFsOps.open(path, flags, mode);
      const label = name(path);
      const wrapped: FileOps = {
        async writeFile(data) {
          const failure = step(`write ${label}`);
          if (failure) {
            await file.writeFile(Buffer.from(data).subarray(0, Math.floor(data.length / 2)));
            throw failure;
          }
          await file.writeFile(data);
        },
        sync: () => call(`${flags === 'r' ? 'fsync-dir' : 'fsync'} ${label}`, () => file.sync()),
        async close() {
          await file.close();
          const failure = step(`close ${label}`, false);
          if (failure) throw failure;
        },
      };
      return wrapped;
    },
    rename: (from, to) => call(`rename ${name(from)} ${name(to)}`, () => nodeFsOps.rename(from, to)),
    link: (from, to) => call(`link ${name(from)} ${name(to)}`, () => nodeFsOps.link(from, to)),
    unlink: (path) => call(`unlink ${name(path)}`, () => nodeFsOps.unlink(path)),
    async mkdir(path, options) {
      const failure = step(`mkdir ${name(path)}`);
      if (failure) throw failure;
      return nodeFsOps.mkdir(path, options);
    },
  };
  return {
    fs,
    log,
    /** The log since the last take(). */
    take: () => log.splice(0),
    failOnce(entry: string, code: string): NodeJS.ErrnoException {
      const error = errnoError(code, entry);
      failures.push({ entry, error });
      return error;
    },
  };
}

async function recorded(): Promise<{ dir: string; store: DirStore; fs: ReturnType<typeof recordingFs> }> {
  const dir = await freshDir();
  const fs = recordingFs(dir);
  const store = new DirStore({ directory: dir, fs: fs.fs });
  await store.open();
  return { dir, store, fs };
}

test('dir: a put is on disk before it returns: temp written, fsync\'d, renamed, then the directory fsync\'d', async () => {
  const { store, fs } = await recorded();
  await store.put('0000002a', Buffer.alloc(4096, 1));
  assert.deepEqual(fs.take(), [
    'write 0000002a.XXXXXX', 'fsync 0000002a.XXXXXX', 'rename 0000002a.XXXXXX 0000002a', 'fsync-dir .',
  ]);
  // Exclusive creation links instead of renaming; the temp name goes before the one directory fsync.
  await store.put('0000002b', Buffer.alloc(4096, 2), { ifNoneMatch: '*' });
  assert.deepEqual(fs.take(), [
    'write 0000002b.XXXXXX', 'fsync 0000002b.XXXXXX', 'link 0000002b.XXXXXX 0000002b', 'unlink 0000002b.XXXXXX', 'fsync-dir .',
  ]);
  // A delete is durable too; a missing sidecar (and its missing directory) needs no fsync.
  await store.delete('0000002a');
  assert.deepEqual(fs.take(), ['unlink 0000002a', 'fsync-dir .', 'unlink .s3backer-meta/0000002a.json']);
  await store.close();
});

test('dir: new directories are made reachable: each new level\'s parent is fsync\'d', async () => {
  const { store, fs } = await recorded();
  await store.put('vol1/00000000', Buffer.alloc(512, 1), { metadata: { 's3backer-blocksize': '512' } });
  const sidecarTemp = '.s3backer-meta/vol1/00000000.json.XXXXXX';
  assert.deepEqual(fs.take(), [
    'mkdir .s3backer-meta/vol1', 'fsync-dir .s3backer-meta', 'fsync-dir .',
    `write ${sidecarTemp}`, `fsync ${sidecarTemp}`, `rename ${sidecarTemp} .s3backer-meta/vol1/00000000.json`, 'fsync-dir .s3backer-meta/vol1',
    'mkdir vol1', 'fsync-dir .',
    'write vol1/00000000.XXXXXX', 'fsync vol1/00000000.XXXXXX', 'rename vol1/00000000.XXXXXX vol1/00000000', 'fsync-dir vol1',
  ]);
  await store.close();
});

test('dir: body and sidecar change in durable steps: new entry, then body, then trim; delete removes the body first', async () => {
  const { store, fs } = await recorded();
  await store.put('vol1/00000000', Buffer.alloc(512, 1), { metadata: { v: '1' } });
  fs.take();
  await store.put('vol1/00000000', Buffer.alloc(512, 2), { metadata: { v: '2' } });
  const sidecarTemp = '.s3backer-meta/vol1/00000000.json.XXXXXX';
  const sidecarWrite = [`write ${sidecarTemp}`, `fsync ${sidecarTemp}`, `rename ${sidecarTemp} .s3backer-meta/vol1/00000000.json`, 'fsync-dir .s3backer-meta/vol1'];
  assert.deepEqual(fs.take(), [
    ...sidecarWrite, // both entries: the old body still finds its own
    'write vol1/00000000.XXXXXX', 'fsync vol1/00000000.XXXXXX', 'rename vol1/00000000.XXXXXX vol1/00000000', 'fsync-dir vol1',
    ...sidecarWrite, // only the new body's entry
  ]);
  await store.delete('vol1/00000000');
  assert.deepEqual(fs.take(), ['unlink vol1/00000000', 'fsync-dir vol1', 'unlink .s3backer-meta/vol1/00000000.json', 'fsync-dir .s3backer-meta/vol1']);
  await store.close();
});

test('dir: a put that fails at any step removes its temp file and rejects with the original error', async () => {
  const cases: { entry: string; code: string; exclusive?: boolean }[] = [
    { entry: 'write 0000002a.XXXXXX', code: 'ENOSPC' },
    { entry: 'fsync 0000002a.XXXXXX', code: 'EIO' },
    { entry: 'close 0000002a.XXXXXX', code: 'EIO' },
    { entry: 'rename 0000002a.XXXXXX 0000002a', code: 'EXDEV' },
    { entry: 'link 0000002a.XXXXXX 0000002a', code: 'EIO', exclusive: true },
  ];
  for (const { entry, code, exclusive } of cases) {
    const { dir, store, fs } = await recorded();
    const old = Buffer.alloc(4096, 1);
    if (!exclusive) await store.put('0000002a', old);
    fs.take();
    const injected = fs.failOnce(entry, code);
    await assert.rejects(store.put('0000002a', Buffer.alloc(4096, 2), exclusive ? { ifNoneMatch: '*' } : {}), (error: unknown) => {
      assert.ok(isS3BackerError(error, 'S3B_BACKEND_IO'), `${entry}: got ${String(error)}`);
      assert.equal(error.cause, injected, `${entry}: the cause is the failing call's own error`);
      assert.match(error.message, new RegExp(code));
      if (code === 'ENOSPC') assert.match(error.message, /free some space/);
      return true;
    });
    assert.ok(fs.log.includes('unlink 0000002a.XXXXXX'), `${entry}: the temp file is unlinked (${fs.log.join(', ')})`);
    assert.deepEqual(await tempFiles(dir), [], `${entry}: no temp file left`);
    const got = await store.get('0000002a');
    if (exclusive) assert.equal(got, null, entry);
    else assert.ok(got?.body.equals(old), `${entry}: the old body is intact`);
    await store.close();
  }
});

test('dir: when removing the temp file fails too, the caller still gets the first error', async () => {
  const { dir, store, fs } = await recorded();
  const injected = fs.failOnce('fsync 0000002a.XXXXXX', 'EIO');
  fs.failOnce('unlink 0000002a.XXXXXX', 'EPERM');
  await assert.rejects(store.put('0000002a', Buffer.alloc(4096, 2)),
    (error: unknown) => isS3BackerError(error, 'S3B_BACKEND_IO') && error.cause === injected);
  // The temp file that could not be removed is not an object.
  assert.equal((await tempFiles(dir)).length, 1);
  const keys: string[] = [];
  for await (const key of store.list()) keys.push(key);
  assert.deepEqual(keys, []);
  await store.close();
});

test('dir: a sidecar write that fails leaves the body untouched and no temp file', async () => {
  const { dir, store, fs } = await recorded();
  await store.put('0000002a', Buffer.alloc(512, 1), { metadata: { v: 'old' } });
  fs.take();
  const injected = fs.failOnce('fsync .s3backer-meta/0000002a.json.XXXXXX', 'EIO');
  await assert.rejects(store.put('0000002a', Buffer.alloc(512, 2), { metadata: { v: 'new' } }),
    (error: unknown) => isS3BackerError(error, 'S3B_BACKEND_IO') && error.cause === injected);
  assert.ok(!fs.log.some((entry) => entry.startsWith('write 0000002a')), `the body was not written: ${fs.log.join(', ')}`);
  assert.deepEqual(await tempFiles(dir), []);
  const got = await store.get('0000002a');
  assert.ok(got?.body.equals(Buffer.alloc(512, 1)));
  assert.deepEqual(got?.metadata, { v: 'old' });
  await store.close();
});

test('dir: a stale sidecar entry for the new body\'s MD5 is gone before that body lands', async () => {
  const { store, fs } = await recorded();
  const body = Buffer.alloc(512, 7);
  await store.put('0000002a', body, { metadata: { v: 'old' }, contentEncoding: 'deflate' });
  // A delete that stops after the body's unlink leaves an orphan sidecar describing this MD5.
  fs.failOnce('unlink .s3backer-meta/0000002a.json', 'EIO');
  await assert.rejects(store.delete('0000002a'), (error: unknown) => isS3BackerError(error, 'S3B_BACKEND_IO'));
  // The same bytes come back without metadata (raw, not deflated), and the put stops right after
  // the body's rename, as a crash there would: the body must not pick up the orphan's encoding.
  fs.failOnce('fsync-dir .', 'EIO');
  await assert.rejects(store.put('0000002a', body), (error: unknown) => isS3BackerError(error, 'S3B_BACKEND_IO'));
  const got = await store.get('0000002a');
  assert.ok(got?.body.equals(body));
  assert.equal(got?.contentEncoding, undefined);
  assert.deepEqual(got?.metadata, {});
  await store.close();
});

test('dir: directory fsyncs are shared: each caller waits for one that began after it, one in flight per directory', async () => {
  const started: { directory: string; finish: (error?: Error) => void }[] = [];
  const fs: FsOps = {
    ...nodeFsOps,
    async open(path, flags) {
      assert.equal(flags, 'r', 'a directory is opened read-only');
      return {
        writeFile: () => Promise.reject(new Error('a directory handle is never written')),
        sync: () => new Promise<void>((resolve, reject) => started.push({ directory: path, finish: (error) => (error ? reject(error) : resolve()) })),
        close: () => Promise.resolve(),
      };
    },
  };
  const sync = new DirectorySync(fs);
  const settled: string[] = [];
  const track = (name: string, promise: Promise<void>) =>
    promise.then(() => settled.push(name), (error: Error) => settled.push(`${name}: ${error.message}`));
  const tick = () => new Promise((resolve) => setImmediate(resolve));

  void track('a', sync.sync('/d'));
  await tick();
  void track('b', sync.sync('/d'));
  void track('c', sync.sync('/d'));
  void track('other', sync.sync('/e'));
  await tick();
  // b and c renamed after a's fsync began, so it may not cover them; /e does not wait for /d.
  assert.deepEqual(started.map((s) => s.directory), ['/d', '/e']);
  started[0]!.finish();
  await tick();
  assert.deepEqual(settled, ['a']);
  assert.deepEqual(started.map((s) => s.directory), ['/d', '/e', '/d'], 'one fsync for b and c together');
  void track('d', sync.sync('/d'));
  await tick();
  started[1]!.finish();
  await tick();
  assert.deepEqual(settled, ['a', 'other']);
  started[2]!.finish();
  await tick();
  assert.deepEqual(settled, ['a', 'other', 'b', 'c']);
  assert.equal(started.length, 4, 'd gets an fsync of its own, begun after it asked');
  started[3]!.finish(new Error('EIO'));
  await tick();
  assert.deepEqual(settled.slice(4), ['d: EIO']);
  // A failure does not wedge the directory: the next caller gets a fresh fsync.
  const e = track('e', sync.sync('/d'));
  await tick();
  assert.equal(started.length, 5);
  started[4]!.finish();
  await e;
  assert.deepEqual(settled.slice(5), ['e']);
});

test('dir: a full disk (real tmpfs, ENOSPC) fails the put with ENOSPC and leaves no temp file', async (t) => {
  if (process.getuid?.() !== 0) {
    const reason = 'mounting a tmpfs needs root (run as root, as CI does)';
    console.log(`skipping: ${reason}`);
    t.skip(reason);
    return;
  }
  const dir = await freshDir();
  await mustRun('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', dir]);
  try {
    const store = new DirStore({ directory: dir });
    await store.open();
    const key = (i: number) => i.toString(16).padStart(8, '0');
    const stored: Buffer[] = [];
    let failure: unknown;
    // 256 KiB holds at most four 64 KiB blocks.
    while (failure === undefined && stored.length < 16) {
      const body = randomBytes(64 * 1024);
      await store.put(key(stored.length), body).then(() => stored.push(body), (error: unknown) => { failure = error; });
    }
    assert.ok(stored.length >= 1 && stored.length <= 4, `${stored.length} blocks fit`);
    const isEnospc = (error: unknown) => isS3BackerError(error, 'S3B_BACKEND_IO')
      && (error.cause as NodeJS.ErrnoException).code === 'ENOSPC' && /free some space/.test(error.message);
    assert.ok(isEnospc(failure), `expected S3B_BACKEND_IO caused by ENOSPC, got ${String(failure)}`);
    // Writers racing for the space left, with and without a sidecar: all fail the same way.
    const burst = await Promise.allSettled(Array.from({ length: 8 }, (_, i) =>
      store.put(key(0x100 + i), randomBytes(64 * 1024), i % 2 ? { metadata: { n: String(i) } } : {})));
    for (const result of burst) assert.ok(result.status === 'rejected' && isEnospc(result.reason), `burst: ${result.status === 'rejected' ? String(result.reason) : 'fulfilled'}`);
    assert.deepEqual(await tempFiles(dir), [], 'no temp file left behind');
    for (const [i, body] of stored.entries()) assert.ok((await store.get(key(i)))?.body.equals(body), `block ${i} intact`);
    // The space the failures used came back: after one delete, a block fits again.
    await store.delete(key(0));
    await store.put(key(0), stored[0]!);
    await store.close();
  } finally {
    await mustRun('umount', [dir]);
  }
});
