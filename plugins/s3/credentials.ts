import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { S3BackerError, type Logger } from 's3backer';
import { ec2RoleCredentials, type CredentialProvider } from './imds-credentials.js';

/** How the S3 client authenticates. */
export type S3Credentials =
  | { kind: 'static'; accessKeyId: string; secretAccessKey: string; /** Where the key came from, for messages. */ source: string }
  /**
   * Unsigned requests, for public buckets (http_io.c then sends no Authorization header): `--accessId=`
   * (empty), or a `--readOnly` mount that found no credentials (read-only-credentials.ts), as `reason` says.
   */
  | { kind: 'anonymous'; reason?: string }
  /** Nothing configured: the AWS SDK's default provider chain (environment, profile, SSO, IMDS ...). */
  | { kind: 'default-chain' }
  /** Keys from an SDK provider, refreshed by the SDK: `--accessEC2IAM` (imds-credentials.ts). */
  | { kind: 'provider'; provider: CredentialProvider; /** Whose keys, for messages. */ source: string };

/** The `--access*` options, as in ResolvedConfig. */
export interface CredentialOptions {
  accessId?: string | undefined;
  accessKey?: string | undefined;
  accessFile?: string | undefined;
  accessKeyEnv?: string | undefined;
  accessEC2IAM?: string | undefined;
  accessEC2IAMv2?: boolean | undefined;
}

/** What the resolution reads from the process; injectable for tests. */
export interface CredentialEnvironment {
  env?: Readonly<Record<string, string | undefined>>;
  /** Defaults to `$HOME`, else the OS home directory (the C tool uses `$HOME`, s3b_config.c). */
  homeDir?: string;
}

export interface AccessFileEntry {
  accessId: string;
  accessKey: string;
}

export const DEFAULT_ACCESS_FILE_NAME = '.s3backer_passwd';

/**
 * The C tool's access file format (s3b_config.c, --accessFile): one `accessID:accessKey` per line;
 * lines starting with `#`, empty lines, lines starting with white space and lines without `:` are
 * skipped; trailing white space is trimmed; the line splits at the FIRST `:` (secret keys may
 * contain colons).
 */
export function parseAccessFile(text: string): AccessFileEntry[] {
  const entries: AccessFileEntry[] = [];
  for (const raw of text.split('\n')) {
    if (raw === '' || raw.startsWith('#') || /^\s/.test(raw)) continue;
    const line = raw.replace(/\s+$/, '');
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    entries.push({ accessId: line.slice(0, colon), accessKey: line.slice(colon + 1) });
  }
  return entries;
}

/**
 * Turn the `--access*` options into credentials, as the C tool does: explicit flags first, then
 * the access file (the first entry, or the one matching `--accessId`). An explicitly named
 * `--accessFile` must exist; the default `~/.s3backer_passwd` may be missing, and then (with no
 * `--accessId`) the AWS SDK's default chain takes over. With `--accessEC2IAM=ROLE` the keys come
 * from the instance metadata service and no access file is read (s3b_config.c reads the default
 * one only without a role); nothing is fetched until the first request.
 */
export async function resolveCredentials(options: CredentialOptions, environment: CredentialEnvironment = {}, log?: Logger): Promise<S3Credentials> {
  const env = environment.env ?? process.env;
  const home = environment.homeDir ?? env.HOME ?? homedir();
  if (options.accessKey !== undefined && options.accessKeyEnv !== undefined) {
    throw invalid('both --accessKey and --accessKeyEnv are given; use only one of them');
  }
  if (options.accessEC2IAM !== undefined) return ec2Role(options, options.accessEC2IAM, log);
  if (options.accessEC2IAMv2 === true) {
    throw invalid('--accessEC2IAM-IMDSv2 only applies with --accessEC2IAM=ROLE; add the role or drop --accessEC2IAM-IMDSv2');
  }
  if (options.accessId === '') return { kind: 'anonymous' };

  let key = options.accessKey;
  let keySource = '--accessKey';
  if (options.accessKeyEnv !== undefined) {
    key = env[options.accessKeyEnv];
    keySource = `$${options.accessKeyEnv}`;
    if (key === undefined) {
      throw invalid(`the environment variable ${options.accessKeyEnv} named by --accessKeyEnv is not set; export it with the secret access key, or give the key another way (--accessKey, --accessFile)`);
    }
  }
  if (options.accessId !== undefined && key !== undefined) {
    return { kind: 'static', accessKeyId: options.accessId, secretAccessKey: key, source: keySource };
  }

  const explicitFile = options.accessFile !== undefined;
  const file = explicitFile ? expandHome(options.accessFile!, home) : join(home, DEFAULT_ACCESS_FILE_NAME);
  const entries = await readAccessFile(file, explicitFile);

  if (options.accessId !== undefined) {
    const entry = entries?.find((candidate) => candidate.accessId === options.accessId);
    if (!entry) {
      throw invalid(`no secret key for access key id "${options.accessId}": none given with --accessKey or --accessKeyEnv, and ${entries ? `${file} has no "${options.accessId}:" line` : `${file} does not exist`}; `
        + `give the key with --accessKey or --accessKeyEnv, or add a line "${options.accessId}:SECRET" to the access file`);
    }
    return { kind: 'static', accessKeyId: entry.accessId, secretAccessKey: entry.accessKey, source: file };
  }
  const first = entries?.[0];
  if (first) {
    // As the C tool: a flag-given key is kept, the file only supplies what is missing.
    return key !== undefined
      ? { kind: 'static', accessKeyId: first.accessId, secretAccessKey: key, source: keySource }
      : { kind: 'static', accessKeyId: first.accessId, secretAccessKey: first.accessKey, source: file };
  }
  if (key !== undefined) {
    throw invalid(`a secret access key was given (${keySource}) but no access key id; add --accessId=ID (or an "ID:KEY" line in ${file})`);
  }
  return { kind: 'default-chain' };
}

function ec2Role(options: CredentialOptions, role: string, log: Logger | undefined): S3Credentials {
  // validate_config refuses an access key ID next to a role (s3b_config.c); an empty --accessId is no ID there.
  const stray = options.accessId !== undefined && options.accessId !== '' ? '--accessId'
    : options.accessKey !== undefined ? '--accessKey' : options.accessKeyEnv !== undefined ? '--accessKeyEnv' : options.accessFile !== undefined ? '--accessFile' : undefined;
  if (stray !== undefined) throw invalid(`--accessEC2IAM takes the keys from the EC2 instance metadata, so ${stray} cannot be given too; drop ${stray} or --accessEC2IAM`);
  if (role === '') throw invalid('--accessEC2IAM needs the name of the instance\'s IAM role (--accessEC2IAM=ROLE)');
  const imdsV2Only = options.accessEC2IAMv2 === true;
  return {
    kind: 'provider',
    provider: ec2RoleCredentials({ role, imdsV2Only, log }),
    source: `EC2 IAM role "${role}" (instance metadata${imdsV2Only ? ', IMDSv2 only' : ''})`,
  };
}

/** The file's entries; undefined when the default file does not exist. */
async function readAccessFile(file: string, explicit: boolean): Promise<AccessFileEntry[] | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !explicit) return undefined;
    if (code === 'ENOENT') throw invalid(`the access file ${file} given with --accessFile does not exist; create it with "accessID:accessKey" lines, or fix the --accessFile path`, error);
    throw invalid(`cannot read the access file ${file} (${code ?? String(error)}); check its permissions, or give the keys with --accessId and --accessKey`, error);
  }
  return parseAccessFile(text);
}

function expandHome(path: string, home: string): string {
  return path === '~' ? home : path.startsWith('~/') ? join(home, path.slice(2)) : resolve(path);
}

function invalid(message: string, cause?: unknown): S3BackerError {
  return new S3BackerError('S3B_CONFIG_INVALID', message, cause === undefined ? {} : { cause });
}
