import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseAccessFile, resolveCredentials, type CredentialOptions } from '../../plugins/s3/credentials.js';
import { isS3BackerError } from '../../src/errors/s3backer-error.js';

let home: string;
let emptyHome: string;
before(async () => {
  home = await mkdtemp(join(tmpdir(), 's3b-creds-'));
  emptyHome = await mkdtemp(join(tmpdir(), 's3b-creds-empty-'));
  await writeFile(join(home, '.s3backer_passwd'), '# comment\nFIRST:first-secret\nSECOND:second:secret:with:colons  \n');
});
after(async () => {
  await rm(home, { recursive: true, force: true });
  await rm(emptyHome, { recursive: true, force: true });
});

const resolve = (options: CredentialOptions, env: Record<string, string> = {}, homeDir = home) => resolveCredentials(options, { env, homeDir });
const invalid = (pattern: RegExp) => (error: unknown) => isS3BackerError(error, 'S3B_CONFIG_INVALID') && pattern.test(error.message);

test('access file: the C tool\'s line rules (s3b_config.c)', () => {
  const text = [
    '# a comment:with a colon',
    '',
    '   indented:skipped',
    '\ttabbed:skipped',
    'no colon here',
    'ID1:secret1',
    'ID2:se:cr:et2   \t',
    'ID3:secret3\r',
    'ID4:',
    '',
  ].join('\n');
  assert.deepEqual(parseAccessFile(text), [
    { accessId: 'ID1', accessKey: 'secret1' },
    { accessId: 'ID2', accessKey: 'se:cr:et2' },
    { accessId: 'ID3', accessKey: 'secret3' },
    { accessId: 'ID4', accessKey: '' },
  ]);
  assert.deepEqual(parseAccessFile(''), []);
});

test('credentials: --accessId and --accessKey are used as given', async () => {
  assert.deepEqual(await resolve({ accessId: 'A', accessKey: 'K' }), { kind: 'static', accessKeyId: 'A', secretAccessKey: 'K', source: '--accessKey' });
});

test('credentials: without --accessId the first access-file entry is used', async () => {
  const credentials = await resolve({});
  assert.equal(credentials.kind, 'static');
  assert.equal(credentials.kind === 'static' && credentials.accessKeyId, 'FIRST');
  assert.equal(credentials.kind === 'static' && credentials.secretAccessKey, 'first-secret');
});

test('credentials: with --accessId the matching access-file entry is used', async () => {
  const credentials = await resolve({ accessId: 'SECOND' });
  assert.equal(credentials.kind === 'static' && credentials.secretAccessKey, 'second:secret:with:colons');
});

test('credentials: --accessId with no key anywhere is S3B_CONFIG_INVALID saying what to do', async () => {
  await assert.rejects(resolve({ accessId: 'THIRD' }), invalid(/"THIRD".*--accessKey/));
  await assert.rejects(resolve({ accessId: 'THIRD' }, {}, emptyHome), invalid(/does not exist.*--accessKey/));
});

test('credentials: --accessKeyEnv names the variable holding the key; a missing variable is an error', async () => {
  const credentials = await resolve({ accessId: 'A', accessKeyEnv: 'MY_KEY' }, { MY_KEY: 'from-env' });
  assert.equal(credentials.kind === 'static' && credentials.secretAccessKey, 'from-env');
  await assert.rejects(resolve({ accessId: 'A', accessKeyEnv: 'MISSING_KEY' }), invalid(/MISSING_KEY/));
  await assert.rejects(resolve({ accessId: 'A', accessKey: 'K', accessKeyEnv: 'MY_KEY' }, { MY_KEY: 'x' }), invalid(/only one/));
});

test('credentials: --accessId= (empty) means anonymous requests', async () => {
  assert.deepEqual(await resolve({ accessId: '' }), { kind: 'anonymous' });
});

test('credentials: nothing given and no access file leaves the AWS SDK default chain', async () => {
  assert.deepEqual(await resolve({}, {}, emptyHome), { kind: 'default-chain' });
});

test('credentials: an explicit --accessFile must exist; it replaces the default file', async () => {
  await assert.rejects(resolve({ accessFile: join(emptyHome, 'nope') }), invalid(/does not exist.*--accessFile/));
  const file = join(emptyHome, 'other_passwd');
  await writeFile(file, 'OTHER:other-secret\n');
  const credentials = await resolve({ accessFile: file });
  assert.equal(credentials.kind === 'static' && credentials.accessKeyId, 'OTHER');
});

test('credentials: a key without an id takes the id from the access file, else is an error', async () => {
  const credentials = await resolve({ accessKey: 'flag-key' });
  assert.equal(credentials.kind === 'static' && credentials.accessKeyId, 'FIRST');
  assert.equal(credentials.kind === 'static' && credentials.secretAccessKey, 'flag-key');
  await assert.rejects(resolve({ accessKey: 'flag-key' }, {}, emptyHome), invalid(/--accessId/));
});
