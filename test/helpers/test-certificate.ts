import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificate {
  key: Buffer;
  cert: Buffer;
  /** The certificate as a PEM file, for `--cacert`. */
  certFile: string;
  /** Another self-signed certificate's PEM file: a CA that did not sign `cert`. */
  otherCertFile: string;
  remove(): Promise<void>;
}

/**
 * A self-signed certificate for `localhost`, valid for a day, made with the openssl command line
 * (.ci/run installs it). Resolves to a reason string when openssl is missing, for `t.skip`.
 */
export async function makeTestCertificate(): Promise<TestCertificate | string> {
  const dir = await mkdtemp(join(tmpdir(), 's3b-cert-'));
  const make = (name: string): void => {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost', '-keyout', join(dir, `${name}-key.pem`), '-out', join(dir, `${name}.pem`)], { stdio: 'ignore' });
  };
  try {
    make('server');
    make('other');
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    return `no openssl to make a test certificate (${(error as Error).message}); .ci/run installs it`;
  }
  const [key, cert] = await Promise.all([readFile(join(dir, 'server-key.pem')), readFile(join(dir, 'server.pem'))]);
  return {
    key, cert, certFile: join(dir, 'server.pem'), otherCertFile: join(dir, 'other.pem'),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
