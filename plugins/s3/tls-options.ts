import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { S3BackerError } from 's3backer';

/** How https connections to the store check the server (`--cacert`, `--insecure`). */
export interface TlsTrust {
  /** PEM certificates of the authorities to trust, in place of Node's bundled ones (`--cacert`). */
  ca?: Buffer;
  /** Where `ca` came from, for messages. */
  cacertFile?: string;
  /** False: no certificate check at all (`--insecure`). */
  rejectUnauthorized?: boolean;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * `--cacert=FILE` and `--insecure` as the C tool passes them to libcurl (http_io.c: CURLOPT_CAINFO,
 * CURLOPT_SSL_VERIFYPEER=0): FILE replaces the default authorities, as Node's `ca` option does
 * (https://nodejs.org/docs/latest-v20.x/api/tls.html#tlscreatesecurecontextoptions). Read and
 * checked here, at mount time: Node accepts a file without a single certificate and would then only
 * fail every connection later with "unable to get local issuer certificate".
 */
export function tlsTrust(options: { cacert?: string | undefined; insecure?: boolean | undefined }): TlsTrust {
  const trust: TlsTrust = {};
  if (options.cacert !== undefined) {
    const file = options.cacert;
    let pem: string;
    try {
      pem = readFileSync(file, 'utf8');
    } catch (error) {
      throw new S3BackerError('S3B_CONFIG_INVALID',
        `cannot read the certificate file ${file} given with --cacert (${(error as NodeJS.ErrnoException).code ?? String(error)}); check the path and its permissions`, { cause: error });
    }
    const blocks = pem.match(PEM_CERTIFICATE) ?? [];
    try {
      for (const block of blocks) new X509Certificate(block);
    } catch (error) {
      throw new S3BackerError('S3B_CONFIG_INVALID',
        `the certificate file ${file} given with --cacert holds a damaged certificate (${(error as Error).message}); give a PEM file of CA certificates`, { cause: error });
    }
    if (blocks.length === 0) {
      throw new S3BackerError('S3B_CONFIG_INVALID',
        `the file ${file} given with --cacert holds no PEM certificate ("-----BEGIN CERTIFICATE-----"); give the PEM file of the certificate authority that signed the server's certificate`);
    }
    trust.ca = Buffer.from(blocks.join('\n') + '\n');
    trust.cacertFile = file;
  }
  if (options.insecure === true) trust.rejectUnauthorized = false;
  return trust;
}

/** OpenSSL's certificate verification codes, as Node names them on the socket error (and Node's own host name check). */
const CERTIFICATE_ERROR = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY|DECRYPT|DECODE)_|INVALID_CA|PATH_LENGTH_EXCEEDED|INVALID_PURPOSE|HOSTNAME_MISMATCH/;
const EXPLAINED = Symbol('explained');

/**
 * A failed certificate check says what to do about it. The error is changed in place: it is the
 * socket's, and the request (the lean path's or the SDK's) rejects with this very object, so the
 * store's message (and `--debug-http`) carry the advice. Nothing is retried for it (s3-failure.ts
 * classifies no certificate code as a network failure).
 */
export function explainCertificateError(error: unknown, trust: TlsTrust): void {
  if (typeof error !== 'object' || error === null) return;
  const e = error as NodeJS.ErrnoException & { [EXPLAINED]?: true };
  if (e[EXPLAINED] || typeof e.code !== 'string' || !CERTIFICATE_ERROR.test(e.code)) return;
  e[EXPLAINED] = true;
  const trusted = trust.cacertFile !== undefined ? `the authorities in --cacert=${trust.cacertFile}` : 'the certificate authorities Node trusts';
  let advice: string;
  if (e.code === 'ERR_TLS_CERT_ALTNAME_INVALID' || e.code === 'HOSTNAME_MISMATCH') {
    advice = 'the https server\'s certificate is for another host name; check --baseURL (and --vhost, which puts the bucket in the host name)';
  } else if (e.code === 'CERT_HAS_EXPIRED' || e.code === 'CERT_NOT_YET_VALID') {
    advice = 'the https server\'s certificate is outside its validity dates; renew it, or check this machine\'s clock';
  } else {
    advice = `the https server's certificate is not signed by ${trusted}; give --cacert=FILE with the PEM certificate of the authority that signed it, or --insecure to skip the check (test servers only)`;
  }
  e.message = `${e.message} (TLS certificate check failed: ${advice})`;
}
