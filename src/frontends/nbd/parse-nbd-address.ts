import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { S3BackerError } from '../../errors/s3backer-error.js';
import { NBD_DEFAULT_PORT } from './nbd-protocol.js';

/** Where the NBD server listens. */
export type NbdAddress =
  | { kind: 'unix'; path: string }
  /** `port` 0 asks the system for a free port (tests); the bound one is the server's `address`. */
  | { kind: 'tcp'; host: string; port: number };

/** sockaddr_un's sun_path is 108 bytes on Linux, one of them the terminating NUL. */
const MAX_UNIX_PATH_BYTES = 107;

const HINT = `give unix:/path/to.sock, HOST:PORT or [IPv6]:PORT (e.g. 127.0.0.1:${NBD_DEFAULT_PORT})`;

function invalid(text: string, why: string): S3BackerError {
  return new S3BackerError('S3B_CONFIG_INVALID', `NBD address "${text}" ${why}; ${HINT}`);
}

function parsePort(text: string, port: string): number {
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) throw invalid(text, `has port "${port}", which is not a number from 0 to 65535`);
  return Number(port);
}

/**
 * `unix:/path/to.sock`, `HOST:PORT` or `[IPv6]:PORT`. A relative socket path is made absolute
 * now: a daemon changes its working directory to / before it listens.
 */
export function parseNbdAddress(text: string): NbdAddress {
  if (text.startsWith('unix:')) {
    const path = text.slice('unix:'.length);
    if (path === '') throw invalid(text, 'names no socket path');
    if (path.includes('\0')) throw invalid(text, 'contains a NUL byte');
    const absolute = resolve(path);
    if (Buffer.byteLength(absolute) > MAX_UNIX_PATH_BYTES) {
      throw invalid(text, `is a socket path of ${Buffer.byteLength(absolute)} bytes (${absolute}); Unix sockets allow at most ${MAX_UNIX_PATH_BYTES}, choose a shorter path`);
    }
    return { kind: 'unix', path: absolute };
  }
  const bracketed = /^\[([^\]]*)\]:(.*)$/.exec(text);
  if (bracketed) {
    const [, host, port] = bracketed as unknown as [string, string, string];
    if (isIP(host) !== 6) throw invalid(text, `has "[${host}]", which is not an IPv6 address`);
    return { kind: 'tcp', host, port: parsePort(text, port) };
  }
  if (text.startsWith('[')) throw invalid(text, 'has no port after the bracketed IPv6 address');
  const colon = text.lastIndexOf(':');
  if (colon < 0) throw invalid(text, text.startsWith('/') ? 'looks like a path without the unix: prefix' : 'has no port');
  const host = text.slice(0, colon);
  const port = text.slice(colon + 1);
  if (host === '') throw invalid(text, 'has no host (to listen on every interface, say 0.0.0.0 or [::])');
  if (host.includes(':')) throw invalid(text, 'has an IPv6 address without brackets');
  if (!/^[A-Za-z0-9.-]+$/.test(host)) throw invalid(text, `has host "${host}", which is neither an IPv4 address nor a host name`);
  return { kind: 'tcp', host, port: parsePort(text, port) };
}
