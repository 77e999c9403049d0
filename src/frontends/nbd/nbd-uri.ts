import type { NbdAddress } from './parse-nbd-address.js';

/**
 * The export as an NBD URI (github.com/NetworkBlockDevice/nbd doc/uri.md): what log lines show,
 * because nbdinfo, nbdcopy, qemu-img and qemu-io take it as it is.
 */
export function nbdUri(address: NbdAddress, exportName: string, tls: boolean): string {
  const scheme = tls ? 'nbds' : 'nbd';
  const path = `/${encodeURIComponent(exportName)}`;
  if (address.kind === 'unix') return `${scheme}+unix://${path}?socket=${encodeURIComponent(address.path).replace(/%2F/g, '/')}`;
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return `${scheme}://${host}:${address.port}${path}`;
}
