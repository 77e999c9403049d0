import { readFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { createSecureContext, TLSSocket, type SecureContext } from 'node:tls';
import { S3BackerError } from '../../errors/s3backer-error.js';

/** PEM files of the server's certificate (chain) and private key. */
export interface NbdTlsFiles {
  cert: string;
  key: string;
}

/** A client that connects and never completes the TLS handshake is dropped after this long. */
const TLS_HANDSHAKE_TIMEOUT_MS = 30_000;

/**
 * The server side of NBD_OPT_STARTTLS: the certificate is loaded once at start (a bad file fails
 * the start, not the first client), and each upgrade wraps the connection's socket in place.
 */
export class NbdTls {
  private constructor(private readonly context: SecureContext) {}

  static async load(files: NbdTlsFiles): Promise<NbdTls> {
    const read = async (what: string, path: string) => readFile(path).catch((error: unknown) => {
      throw new S3BackerError('S3B_CONFIG_INVALID', `cannot read the NBD TLS ${what} ${path}: ${(error as Error).message}; check --nbd-tls-cert and --nbd-tls-key`, { cause: error });
    });
    // One after the other: when both are wrong, the message names the certificate, every time.
    const cert = await read('certificate', files.cert);
    const key = await read('key', files.key);
    try {
      // TLS 1.2 at least: proto.md requires 1.2 and says older versions should not be offered.
      return new NbdTls(createSecureContext({ cert, key, minVersion: 'TLSv1.2' }));
    } catch (error) {
      throw new S3BackerError('S3B_CONFIG_INVALID',
        `the NBD TLS certificate ${files.cert} and key ${files.key} cannot be used: ${(error as Error).message}; give a PEM certificate and its own private key`, { cause: error });
    }
  }

  /**
   * Run the TLS handshake over `socket` (after NBD_REP_ACK has been sent) and resolve with the
   * encrypted socket. Rejects if the handshake fails, times out, or the client goes away.
   */
  upgrade(socket: Socket): Promise<TLSSocket> {
    const secure = new TLSSocket(socket, { isServer: true, secureContext: this.context });
    return new Promise<TLSSocket>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`no TLS handshake within ${TLS_HANDSHAKE_TIMEOUT_MS / 1000} s`)), TLS_HANDSHAKE_TIMEOUT_MS);
      const done = () => {
        clearTimeout(timer);
        secure.off('secure', onSecure);
        secure.off('error', fail);
        secure.off('close', onClose);
      };
      const onSecure = () => { done(); resolve(secure); };
      const onClose = () => fail(new Error('the client closed the connection during the TLS handshake'));
      function fail(error: Error): void {
        done();
        // An 'error' after this (the socket is being torn down) must not go unhandled.
        secure.on('error', () => {});
        secure.destroy();
        reject(error);
      }
      secure.on('secure', onSecure);
      secure.on('error', fail);
      secure.on('close', onClose);
    });
  }
}
