import { Socket } from 'node:net';

/** The names the C tool accepts (s3b_config.c, ip_tos_values), with the IPTOS_* values of <netinet/ip.h>. */
const NAMED_TOS: Readonly<Record<string, number>> = { lowdelay: 0x10, throughput: 0x08, reliability: 0x04, lowcost: 0x02, mincost: 0x02 };

/** `--ipTOS=VALUE` as the C tool reads it: a name, or a number in strtol's base 0 (`0x` hex, leading `0` octal). */
export function parseIpTos(value: string): number {
  const named = NAMED_TOS[value.toLowerCase()];
  if (named !== undefined) return named;
  const tos = /^0x/i.test(value) ? parseInt(value.slice(2), 16) : /^0[0-7]+$/.test(value) ? parseInt(value, 8) : Number(value);
  if (!Number.isInteger(tos) || tos < 0 || tos > 0xff) throw new RangeError(`--ipTOS=${value} is not a number from 0 to 255 or a known name`);
  return tos;
}

type TosSocket = Socket & { setTypeOfService?: (tos: number) => Socket };

/**
 * Whether this Node can set the IP type-of-service byte of a socket. Node 20 cannot:
 * `socket.setTypeOfService()` came in a later release (nodejs/node#61503), and node:net has no other
 * way to reach setsockopt(IP_TOS), which is what the C tool calls (http_io.c, its sockopt callback).
 */
export function canSetTypeOfService(): boolean {
  return typeof (Socket.prototype as TosSocket).setTypeOfService === 'function';
}

/**
 * Set the byte on a new connection's socket. Before it is connected the socket has no file
 * descriptor yet (Node 24 throws EBADF then), so a pending socket gets it on 'connect', before any
 * request is written. A failure is reported, not thrown, as the C tool logs a failed setsockopt
 * and goes on.
 */
export function applyTypeOfService(socket: unknown, tos: number, onError: (message: string) => void): void {
  const target = socket as TosSocket;
  if (typeof target?.setTypeOfService !== 'function') return;
  const apply = () => {
    try {
      target.setTypeOfService!(tos);
    } catch (error) {
      onError(`cannot set the IP type of service to 0x${tos.toString(16).padStart(2, '0')} (--ipTOS): ${(error as Error).message}`);
    }
  };
  if (target.pending || target.connecting) target.once('connect', apply);
  else apply();
}
