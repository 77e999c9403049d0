import {
  NBD_FLAG_CAN_MULTI_CONN, NBD_FLAG_HAS_FLAGS, NBD_FLAG_READ_ONLY, NBD_FLAG_SEND_DF, NBD_FLAG_SEND_FLUSH,
  NBD_FLAG_SEND_FUA, NBD_FLAG_SEND_TRIM, NBD_FLAG_SEND_WRITE_ZEROES,
} from './nbd-protocol.js';

/** The one export this server offers: the volume, as clients see it. */
export interface NbdExport {
  /** The volume's name; the empty name selects it too (the protocol's "default export"). */
  readonly name: string;
  /** Shown to users by clients that ask for NBD_INFO_DESCRIPTION. */
  readonly description: string;
  readonly size: number;
  readonly readOnly: boolean;
  /** The volume's block size: the smallest write that needs no read-modify-write. */
  readonly blockSize: number;
  /** The largest READ or WRITE payload accepted (NBD_INFO_BLOCK_SIZE's maximum). */
  readonly maxRequestBytes: number;
}

/** Whether a client's export name selects this export. */
export function selectsExport(exported: NbdExport, name: string): boolean {
  return name === '' || name === exported.name;
}

/**
 * The transmission flags. CAN_MULTI_CONN is safe: every connection of this process serves the
 * same BlockDevice and its one block cache, so a FLUSH on any connection stores the writes
 * acknowledged on all of them. SEND_DF only with structured replies (the protocol says so); a
 * read is always answered in one chunk, so "don't fragment" costs nothing to honour.
 */
export function transmissionFlags(exported: NbdExport, structuredReplies: boolean): number {
  let flags = NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH | NBD_FLAG_SEND_FUA | NBD_FLAG_SEND_TRIM
    | NBD_FLAG_SEND_WRITE_ZEROES | NBD_FLAG_CAN_MULTI_CONN;
  if (exported.readOnly) flags |= NBD_FLAG_READ_ONLY;
  if (structuredReplies) flags |= NBD_FLAG_SEND_DF;
  return flags;
}

/**
 * NBD_INFO_BLOCK_SIZE: any byte is addressable (the device does read-modify-write), the volume's
 * block size is preferred, and the maximum payload is the request limit. The protocol wants the
 * preferred size a power of two of at least 512 and no larger than the maximum.
 */
export function blockSizeConstraints(exported: NbdExport): { minimum: number; preferred: number; maximum: number } {
  let preferred = Math.max(512, exported.blockSize);
  while (preferred > exported.maxRequestBytes && preferred > 512) preferred /= 2;
  return { minimum: 1, preferred, maximum: exported.maxRequestBytes };
}
