import { defaultProvider } from '@aws-sdk/credential-provider-node';
import type { Logger } from 's3backer';
import type { S3Credentials } from './credentials.js';

/** Looks for credentials the way the S3Client would; injectable for tests. */
export type CredentialProbe = () => Promise<unknown>;

/**
 * A read-only mount with no credentials anywhere reads a public bucket anonymously. The C tool sends
 * unsigned requests whenever it has no access key (http_io.c: no Authorization header without an
 * access ID), and its man page (s3backer.1, "Read-Only Access") needs no S3 account for a public,
 * read-only volume. We also look where the AWS SDK looks (environment, profiles, SSO, the
 * instance's role): only when that default chain finds nothing does a `--readOnly` mount go
 * anonymous, with a log line saying so, instead of failing in the chain. A writable mount keeps the
 * chain's error: it could not even set the mounted flag without credentials.
 */
export async function readOnlyCredentials(credentials: S3Credentials, readOnly: boolean, log: Logger,
  probe: CredentialProbe = () => defaultProvider()()): Promise<S3Credentials> {
  if (!readOnly || credentials.kind !== 'default-chain') return credentials;
  try {
    await probe();
    return credentials;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    log.info(`no credentials found (no --accessId, no access file, and the AWS SDK's default chain found none: ${reason}); `
      + 'this is a --readOnly mount, so requests are sent anonymously (unsigned), which only a public bucket answers');
    return { kind: 'anonymous', reason: 'no credentials found and --readOnly' };
  }
}
