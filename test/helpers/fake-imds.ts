import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ImdsKeys {
  AccessKeyId: string;
  SecretAccessKey: string;
  Token: string;
}

export interface FakeImds {
  /** `http://127.0.0.1:PORT`, for AWS_EC2_METADATA_SERVICE_ENDPOINT. */
  endpoint: string;
  requests: Array<{ method: string; url: string; headers: IncomingHttpHeaders }>;
  close(): Promise<void>;
}

const TOKEN_PATH = '/latest/api/token';
const ROLES_PATH = '/latest/meta-data/iam/security-credentials/';

/**
 * The EC2 instance metadata service's credential paths, as AWS documents them
 * (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instance-metadata-security-credentials.html):
 * `PUT /latest/api/token` (IMDSv2, with a TTL header) gives a token; the role listing and
 * `.../security-credentials/ROLE` give the keys as JSON. `v1: false` refuses requests without the
 * token (an instance with IMDSv2 required); `v2: false` answers 404 to the token request (a service
 * without IMDSv2). `role: undefined` is an instance without a role.
 */
export async function startFakeImds(options: { role?: string | undefined; keys: ImdsKeys; v1?: boolean; v2?: boolean }): Promise<FakeImds> {
  const token = `imds-token-${Math.random().toString(36).slice(2)}`;
  const requests: FakeImds['requests'] = [];
  const server = createServer((req, res) => {
    requests.push({ method: req.method!, url: req.url!, headers: req.headers });
    const reply = (status: number, body: string, type = 'text/plain'): void => {
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (req.url === TOKEN_PATH) {
      if (options.v2 === false) return reply(404, 'Not Found');
      if (req.method !== 'PUT' || req.headers['x-aws-ec2-metadata-token-ttl-seconds'] === undefined) return reply(400, 'Bad Request');
      return reply(200, token);
    }
    const presented = req.headers['x-aws-ec2-metadata-token'];
    if (presented !== undefined && presented !== token) return reply(401, 'Unauthorized');
    if (presented === undefined && options.v1 === false) return reply(401, 'Unauthorized');
    if (req.method !== 'GET') return reply(405, 'Method Not Allowed');
    if (req.url === ROLES_PATH) return options.role === undefined ? reply(404, 'Not Found') : reply(200, options.role);
    if (options.role !== undefined && req.url === ROLES_PATH + options.role) {
      return reply(200, JSON.stringify({
        Code: 'Success', LastUpdated: new Date().toISOString(), Type: 'AWS-HMAC',
        ...options.keys, Expiration: new Date(Date.now() + 6 * 3600_000).toISOString(),
      }), 'application/json');
    }
    return reply(404, 'Not Found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
