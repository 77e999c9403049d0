import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { fromInstanceMetadata, getInstanceMetadataEndpoint, httpRequest } from '@smithy/credential-provider-imds';
import { S3BackerError, type Logger } from 's3backer';

/** What the S3Client and the lean path's signer call for keys (the SDK memoizes it and calls again before they expire). */
export type CredentialProvider = Extract<NonNullable<S3ClientConfig['credentials']>, (...args: never[]) => unknown>;

export interface Ec2RoleOptions {
  /** `--accessEC2IAM=ROLE`. */
  role: string;
  /** `--accessEC2IAM-IMDSv2`: only the token flow, never IMDSv1. */
  imdsV2Only: boolean;
  log?: Logger | undefined;
  /** One metadata request; the SDK's default is 1 s (the service is on the instance itself). */
  timeoutMs?: number;
}

/** https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instance-metadata-security-credentials.html */
const ROLES_PATH = '/latest/meta-data/iam/security-credentials/';
/** https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-service.html */
const TOKEN_PATH = '/latest/api/token';
const TOKEN_TTL_SECONDS = '21600';
const DEFAULT_TIMEOUT_MS = 1000;
/** The SDK retries the role and credential requests this many times (its default is none). */
const MAX_RETRIES = 3;

/**
 * `--accessEC2IAM=ROLE`: the keys of the instance's IAM role, from the SDK's instance metadata
 * provider (the token flow first, IMDSv1 only if the token request fails and `--accessEC2IAM-IMDSv2`
 * is off; refreshed before they expire, the last keys kept while the service is unreachable; the
 * session token goes with every request as `x-amz-security-token`).
 *
 * The C tool asks for `security-credentials/ROLE` (http_io.c, update_iam_credentials_with_token).
 * The SDK's provider cannot be told a role: it takes the one the service lists (an instance profile
 * holds exactly one). So ROLE is checked against that list before the first keys are fetched, and a
 * role the instance does not have fails the mount as it does in the C tool.
 */
export function ec2RoleCredentials(options: Ec2RoleOptions): CredentialProvider {
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const fetchKeys = fromInstanceMetadata({
    ec2MetadataV1Disabled: options.imdsV2Only, timeout, maxRetries: MAX_RETRIES, logger: sdkLogger(options.log),
  });
  let roleChecked: Promise<string> | undefined;
  return async () => {
    roleChecked ??= checkRole(options, timeout).catch((error: unknown) => {
      roleChecked = undefined;
      throw error;
    });
    const service = await roleChecked;
    try {
      return await fetchKeys();
    } catch (error) {
      throw new S3BackerError('S3B_BACKEND_AUTH',
        `cannot get the keys of EC2 IAM role "${options.role}" from the instance metadata service at ${service} (${(error as Error).message}); check the role's instance profile and the instance's metadata options`,
        { cause: error });
    }
  };
}

/** The role must be the instance's; resolves to the service's address, for messages. */
async function checkRole(options: Ec2RoleOptions, timeout: number): Promise<string> {
  const endpoint = await getInstanceMetadataEndpoint();
  const service = `${endpoint.protocol}//${endpoint.hostname}${endpoint.port === undefined ? '' : `:${endpoint.port}`}`;
  const base = { ...endpoint, timeout };
  let headers: Record<string, string> = {};
  try {
    const token = await httpRequest({ ...base, method: 'PUT', path: TOKEN_PATH, headers: { 'x-aws-ec2-metadata-token-ttl-seconds': TOKEN_TTL_SECONDS } });
    headers = { 'x-aws-ec2-metadata-token': token.toString() };
  } catch (error) {
    if (options.imdsV2Only) {
      throw new S3BackerError('S3B_BACKEND_AUTH',
        `the instance metadata service at ${service} gave no IMDSv2 token (${describe(error)}), and --accessEC2IAM-IMDSv2 forbids IMDSv1; is this an EC2 instance? drop --accessEC2IAM-IMDSv2 if its metadata service only speaks IMDSv1`,
        { cause: error });
    }
    options.log?.debug(`instance metadata: no IMDSv2 token (${describe(error)}); using IMDSv1`);
  }
  let listing: string;
  try {
    listing = (await httpRequest({ ...base, path: ROLES_PATH, headers })).toString();
  } catch (error) {
    const status = (error as { statusCode?: unknown }).statusCode;
    throw new S3BackerError('S3B_BACKEND_AUTH', status === 404
      ? `EC2 IAM role "${options.role}" not found: this instance has no IAM role (${service}${ROLES_PATH} answers 404); attach an instance profile with that role, or give an access key instead of --accessEC2IAM`
      : `cannot reach the EC2 instance metadata service at ${service} for --accessEC2IAM (${describe(error)}); is this an EC2 instance with its metadata service on?`,
    { cause: error });
  }
  const roles = listing.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  if (!roles.includes(options.role)) {
    throw new S3BackerError('S3B_BACKEND_AUTH',
      `EC2 IAM role "${options.role}" not found: this instance's role is ${roles.map((role) => `"${role}"`).join(', ') || 'none'}; give --accessEC2IAM=${roles[0] ?? 'ROLE'}`);
  }
  options.log?.info(`credentials of EC2 IAM role "${options.role}" from the instance metadata service at ${service}${headers['x-aws-ec2-metadata-token'] !== undefined ? ' (IMDSv2)' : ' (IMDSv1)'}`);
  return service;
}

function describe(error: unknown): string {
  const status = (error as { statusCode?: unknown }).statusCode;
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof status === 'number' ? `HTTP ${status}: ${message}` : typeof code === 'string' ? `${code}: ${message}` : message;
}

/** The SDK logs through a console-like object (it defaults to the console itself): ours instead. */
function sdkLogger(log: Logger | undefined): { debug(...content: unknown[]): void; info(...content: unknown[]): void; warn(...content: unknown[]): void; error(...content: unknown[]): void } {
  const line = (content: unknown[]): string => content.map((part) => (part instanceof Error ? part.message : String(part))).join(' ');
  return {
    debug: (...content) => log?.debug(line(content)),
    info: (...content) => log?.info(line(content)),
    warn: (...content) => log?.warn(line(content)),
    error: (...content) => log?.error(line(content)),
  };
}
