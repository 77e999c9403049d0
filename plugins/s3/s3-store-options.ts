import { S3BackerError, type Logger, type ResolvedConfig } from 's3backer';
import type { S3Credentials } from './credentials.js';
import { canSetTypeOfService, parseIpTos } from './ip-tos.js';
import type { S3ConnectionOptions } from './s3-agents.js';
import type { S3StoreOptions } from './s3-store.js';
import { tlsTrust } from './tls-options.js';

export interface S3Endpoint {
  endpoint: string;
  forcePathStyle: boolean;
}

type EndpointConfig = Pick<ResolvedConfig, 'region' | 'ssl'> & { baseURL?: string | undefined; vhost?: boolean | undefined };

/**
 * Where requests go and in which URL style, as the C tool decides (s3b_config.c; s3backer.1, --baseURL,
 * --region, --vhost):
 * an explicit `--baseURL` is used path-style unless `--vhost`; otherwise AWS's endpoint for the
 * region, where a region other than us-east-1 turns vhost on unless `--no-vhost`. The default
 * endpoint is always https (the C tool's default is plain http unless `--ssl`; we do not send
 * signed requests in clear text by default). Throws S3B_CONFIG_INVALID, so call it at config time.
 */
export function resolveS3Endpoint(config: EndpointConfig): S3Endpoint {
  if (config.baseURL !== undefined) {
    if (config.ssl && !/^https:\/\//i.test(config.baseURL)) {
      throw new S3BackerError('S3B_CONFIG_INVALID',
        `--ssl requires an https:// endpoint, but --baseURL is ${config.baseURL}; change --baseURL to https://..., or drop --ssl`);
    }
    return { endpoint: config.baseURL, forcePathStyle: config.vhost !== true };
  }
  const defaultRegion = config.region === 'us-east-1';
  const host = defaultRegion ? 's3.amazonaws.com' : `s3.${config.region}.amazonaws.com`;
  const vhost = config.vhost ?? !defaultRegion;
  return { endpoint: `https://${host}/`, forcePathStyle: !vhost };
}

/**
 * ResolvedConfig -> the S3 store's explicit options (the store itself never reads the config).
 * `log` gets the warnings about options this Node cannot apply, and the `--debug-http` lines.
 */
export function s3StoreOptionsFromConfig(config: ResolvedConfig, credentials: S3Credentials, log?: Logger): S3StoreOptions {
  const { endpoint, forcePathStyle } = resolveS3Endpoint(config);
  return {
    endpoint,
    forcePathStyle,
    bucket: config.bucket,
    region: config.region,
    credentials,
    timeoutMs: config.timeout * 1000,
    acl: config.accessType,
    prefix: config.prefix,
    putHeaders: { sse: config.sse, sseKeyId: config.sseKeyId, storageClass: config.storageClass },
    connection: connectionOptionsFromConfig(config, log),
  };
}

/**
 * The connection options: `--cacert`/`--insecure` (the file read and checked now), `--noCurlCache`,
 * `--ipTOS`, `--debug-http`. `--http11` needs nothing: node:http only speaks HTTP/1.1, which is what
 * the C tool's flag asks libcurl for (http_io.c, CURL_HTTP_VERSION_1_1).
 */
export function connectionOptionsFromConfig(config: ResolvedConfig, log?: Logger): S3ConnectionOptions {
  const connection: S3ConnectionOptions = { keepAlive: !config.noCurlCache, tls: tlsTrust(config) };
  if (config.ipTOS !== undefined) {
    const tos = parseIpTos(config.ipTOS);
    if (canSetTypeOfService()) {
      connection.typeOfService = tos;
    } else {
      // Accepted (a C command line keeps working) but said once per mount: never silently ignored.
      log?.warn(`--ipTOS=${config.ipTOS} is accepted but not applied: Node ${process.versions.node} cannot set the IP type-of-service byte `
        + '(net.Socket#setTypeOfService came in a later Node release); connections to the store use the system default');
    }
  }
  if (log !== undefined) {
    connection.warn = (message) => log.warn(message);
    if (config.debugHttp) connection.traceHttp = (line) => log.info(line);
  }
  return connection;
}
