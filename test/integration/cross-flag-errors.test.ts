import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runS3backer } from '../helpers/s3backer-process.js';

/**
 * Each flag combination the C tool's validate_config (s3b_config.c) refuses, as a user meets it: the
 * command exits non-zero before touching any store or mount point, with the reason and the fix.
 * The rules themselves are tested in test/unit/merge-config.test.ts.
 */
const REFUSED: Array<[args: string[], message: RegExp]> = [
  [['--md5CacheTime=1000'], /--md5CacheTime=1000 needs the MD5 cache.*add --md5CacheSize=N/],
  [['--minWriteDelay=500'], /--minWriteDelay=500 needs the MD5 cache/],
  [['--md5CacheSize=10', '--md5CacheTime=100', '--minWriteDelay=500'], /--md5CacheTime=100 is shorter than --minWriteDelay=500/],
  [['--sse=aws:kms'], /--sse=aws:kms needs the KMS key.*--sse-key-id=ID/],
  [['--sse-key-id=k'], /--sse-key-id only applies with --sse=aws:kms/],
  [['--accessEC2IAM=role', '--accessId=AKIA'], /--accessEC2IAM takes the credentials .* drop --accessId or --accessEC2IAM/],
  [['--sharedDiskMode', '--blockCacheFile=/tmp/never'], /--sharedDiskMode cannot be combined with --blockCacheFile/],
  [['--sharedDiskMode', '--blockCacheSize=10'], /--blockCacheSize cannot be used with --sharedDiskMode/],
  [['--baseURL=http://127.0.0.1:1/', '--insecure'], /--insecure only applies to https endpoints/],
  [['--listBlocksThreads=4'], /--listBlocksThreads only applies with --listBlocks/],
  [['--statsFileMirrorInterval=500'], /--statsFileMirrorInterval only applies with --statsFileMirror/],
  [['--initialRetryPause=5000', '--maxRetryPause=1000'], /--initialRetryPause=5000 is larger than --maxRetryPause=1000/],
  [['--blockCacheSync'], /--blockCacheSync needs --blockCacheWriteDelay=0/],
];

test('every refused flag combination exits non-zero with a clear S3B_CONFIG_INVALID', { timeout: 120_000 }, async () => {
  for (const [args, message] of REFUSED) {
    const result = await runS3backer(['-f', '--store=memory', '--size=1m', ...args, 'volume', '/nonexistent-mount-point'], { timeoutMs: 30_000 });
    assert.equal(result.code, 1, `${args.join(' ')}: must exit 1; stderr:\n${result.stderr}`);
    assert.match(result.stderr, message, args.join(' '));
    assert.match(result.stderr, /^s3backer: .* \[S3B_CONFIG_INVALID\]\n$/, args.join(' '));
  }
});
