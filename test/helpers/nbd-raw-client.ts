import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';

/**
 * A deliberately simple NBD client over a raw socket, written from proto.md independently of the
 * server's code, so tests can send exactly the bytes they mean (malformed ones included) and see
 * exactly what comes back. Every wait has a timeout: a test never hangs on a silent server.
 */

export const INIT_MAGIC = 0x4e42444d41474943n;
export const OPTS_MAGIC = 0x49484156454f5054n;
export const OPTION_REPLY_MAGIC = 0x3e889045565a9n;
export const REQUEST_MAGIC = 0x25609513;
export const SIMPLE_REPLY_MAGIC = 0x67446698;
export const STRUCTURED_REPLY_MAGIC = 0x668e33ef;

export const OPT = { EXPORT_NAME: 1, ABORT: 2, LIST: 3, STARTTLS: 5, INFO: 6, GO: 7, STRUCTURED_REPLY: 8, SET_META_CONTEXT: 10 } as const;
export const REP = {
  ACK: 1, SERVER: 2, INFO: 3, ERR_UNSUP: 0x80000001, ERR_POLICY: 0x80000002, ERR_INVALID: 0x80000003,
  ERR_TLS_REQD: 0x80000005, ERR_UNKNOWN: 0x80000006, ERR_SHUTDOWN: 0x80000007, ERR_TOO_BIG: 0x80000009,
} as const;
export const CMD = { READ: 0, WRITE: 1, DISC: 2, FLUSH: 3, TRIM: 4, CACHE: 5, WRITE_ZEROES: 6, BLOCK_STATUS: 7 } as const;
export const CMD_FLAG = { FUA: 1, NO_HOLE: 2, DF: 4 } as const;
export const FLAG = {
  HAS_FLAGS: 1, READ_ONLY: 2, SEND_FLUSH: 4, SEND_FUA: 8, SEND_TRIM: 32, SEND_WRITE_ZEROES: 64, SEND_DF: 128, CAN_MULTI_CONN: 256,
} as const;
export const NBD_ERR = { EPERM: 1, EIO: 5, EINVAL: 22, ENOSPC: 28, EOVERFLOW: 75, ESHUTDOWN: 108 } as const;
export const REPLY_TYPE = { NONE: 0, OFFSET_DATA: 1, ERROR: 0x8001, ERROR_OFFSET: 0x8002 } as const;
export const INFO = { EXPORT: 0, NAME: 1, DESCRIPTION: 2, BLOCK_SIZE: 3 } as const;

const WAIT_MS = 10_000;

export interface OptionReply {
  option: number;
  type: number;
  data: Buffer;
}

export interface Reply {
  cookie: bigint;
  /** 0 on success. */
  error: number;
  /** READ data (simple replies: as long as the request asked; structured: the chunks' data joined). */
  data?: Buffer;
  /** Structured replies only: every chunk's type, in order. */
  chunkTypes?: number[];
  /** Structured error chunks' messages. */
  message?: string;
  /** NBD_REPLY_TYPE_ERROR_OFFSET's offset. */
  errorOffset?: bigint;
}

export type ConnectTo = { path: string } | { host: string; port: number };

export class RawNbdClient {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private waiting: (() => void) | undefined;
  private ended = false;
  /** Lengths of READs sent and not yet answered, by cookie: a simple reply's payload length is known only from its request. */
  private readonly pendingReads = new Map<bigint, number>();
  private nextCookie = 1n;
  readonly closed: Promise<void>;

  private constructor(public socket: Socket) {
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    this.attach(socket);
  }

  static async connect(to: ConnectTo): Promise<RawNbdClient> {
    const socket = 'path' in to ? connect(to.path) : connect(to.port, to.host);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawNbdClient(socket);
  }

  /**
   * Connect and negotiate: the greeting, fixed newstyle with NO_ZEROES, optionally structured
   * replies, then NBD_OPT_GO. Returns the export's size and transmission flags.
   */
  static async open(to: ConnectTo, options: { structured?: boolean; name?: string } = {}): Promise<{ client: RawNbdClient; size: bigint; flags: number }> {
    const client = await RawNbdClient.connect(to);
    await client.greet();
    client.sendClientFlags(3);
    if (options.structured) {
      client.sendOption(OPT.STRUCTURED_REPLY);
      const reply = await client.readOptionReply();
      if (reply.type !== REP.ACK) throw new Error(`structured replies refused: ${reply.type.toString(16)}`);
    }
    const { size, flags } = await client.go(options.name ?? '');
    return { client, size, flags };
  }

  private attach(socket: Socket): void {
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      this.waiting?.();
    });
    socket.on('end', () => { this.ended = true; this.waiting?.(); });
    socket.on('close', () => { this.ended = true; this.waiting?.(); });
    socket.on('error', () => { this.ended = true; this.waiting?.(); });
  }

  /** Exactly `length` bytes, or a rejection when the server closes first or nothing comes in time. */
  async read(length: number, timeoutMs = WAIT_MS): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (this.buffered < length) {
      if (this.ended) throw new Error(`the server closed the connection (${this.buffered} of ${length} bytes received)`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${length} bytes (${this.buffered} received)`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiting = () => { clearTimeout(timer); this.waiting = undefined; resolve(); };
      });
    }
    const all = Buffer.concat(this.chunks);
    this.chunks = [all.subarray(length)];
    this.buffered -= length;
    return all.subarray(0, length);
  }

  /** Resolves true if the server closes the connection within `timeoutMs` (having sent nothing more), false otherwise. */
  async closesWithin(timeoutMs = WAIT_MS): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), timeoutMs); });
    try {
      return await Promise.race([this.closed.then(() => true), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  write(data: Buffer): void {
    this.socket.write(data);
  }

  async greet(): Promise<number> {
    const greeting = await this.read(18);
    if (greeting.readBigUInt64BE(0) !== INIT_MAGIC || greeting.readBigUInt64BE(8) !== OPTS_MAGIC) throw new Error(`bad greeting ${greeting.toString('hex')}`);
    return greeting.readUInt16BE(16);
  }

  sendClientFlags(flags: number): void {
    const data = Buffer.alloc(4);
    data.writeUInt32BE(flags);
    this.write(data);
  }

  sendOption(option: number, data: Buffer = Buffer.alloc(0), magic = OPTS_MAGIC): void {
    const header = Buffer.alloc(16);
    header.writeBigUInt64BE(magic, 0);
    header.writeUInt32BE(option, 8);
    header.writeUInt32BE(data.length, 12);
    this.write(Buffer.concat([header, data]));
  }

  async readOptionReply(): Promise<OptionReply> {
    const header = await this.read(20);
    if (header.readBigUInt64BE(0) !== OPTION_REPLY_MAGIC) throw new Error(`bad option reply magic ${header.toString('hex')}`);
    const length = header.readUInt32BE(16);
    return { option: header.readUInt32BE(8), type: header.readUInt32BE(12), data: await this.read(length) };
  }

  /** NBD_OPT_INFO / NBD_OPT_GO data: name, then info requests. */
  static infoRequest(name: string, infos: readonly number[]): Buffer {
    const nameBytes = Buffer.from(name);
    const data = Buffer.alloc(4 + nameBytes.length + 2 + 2 * infos.length);
    data.writeUInt32BE(nameBytes.length, 0);
    nameBytes.copy(data, 4);
    data.writeUInt16BE(infos.length, 4 + nameBytes.length);
    infos.forEach((info, i) => data.writeUInt16BE(info, 6 + nameBytes.length + 2 * i));
    return data;
  }

  /** NBD_OPT_INFO or NBD_OPT_GO; every NBD_REP_INFO by type, and the final reply. */
  async info(option: number, name: string, infos: readonly number[] = [INFO.BLOCK_SIZE]): Promise<{ infos: Map<number, Buffer>; final: OptionReply }> {
    this.sendOption(option, RawNbdClient.infoRequest(name, infos));
    const found = new Map<number, Buffer>();
    for (;;) {
      const reply = await this.readOptionReply();
      if (reply.type !== REP.INFO) return { infos: found, final: reply };
      found.set(reply.data.readUInt16BE(0), reply.data.subarray(2));
    }
  }

  async go(name: string): Promise<{ size: bigint; flags: number; infos: Map<number, Buffer> }> {
    const { infos, final } = await this.info(OPT.GO, name);
    if (final.type !== REP.ACK) throw new Error(`NBD_OPT_GO refused: 0x${final.type.toString(16)} ${final.data.toString()}`);
    const exported = infos.get(INFO.EXPORT)!;
    return { size: exported.readBigUInt64BE(0), flags: exported.readUInt16BE(8), infos };
  }

  /** Send a request; returns its cookie. */
  request(type: number, offset: number | bigint, length: number, options: { flags?: number; data?: Buffer; cookie?: bigint; magic?: number } = {}): bigint {
    const cookie = options.cookie ?? this.nextCookie++;
    const header = Buffer.alloc(28);
    header.writeUInt32BE(options.magic ?? REQUEST_MAGIC, 0);
    header.writeUInt16BE(options.flags ?? 0, 4);
    header.writeUInt16BE(type, 6);
    header.writeBigUInt64BE(cookie, 8);
    header.writeBigUInt64BE(BigInt(offset), 16);
    header.writeUInt32BE(length, 24);
    if (type === CMD.READ) this.pendingReads.set(cookie, length);
    this.write(options.data ? Buffer.concat([header, options.data]) : header);
    return cookie;
  }

  /**
   * The next reply, simple or structured. A structured reply is read chunk by chunk until the one
   * flagged DONE; replies to other cookies arriving in between are not expected by these tests.
   */
  async readReply(timeoutMs = WAIT_MS): Promise<Reply> {
    const magic = (await this.read(4, timeoutMs)).readUInt32BE(0);
    if (magic === SIMPLE_REPLY_MAGIC) {
      const rest = await this.read(12, timeoutMs);
      const error = rest.readUInt32BE(0);
      const cookie = rest.readBigUInt64BE(4);
      const readLength = this.pendingReads.get(cookie);
      this.pendingReads.delete(cookie);
      const data = readLength !== undefined && error === 0 ? await this.read(readLength, timeoutMs) : undefined;
      return { cookie, error, ...(data ? { data } : {}) };
    }
    if (magic !== STRUCTURED_REPLY_MAGIC) throw new Error(`bad reply magic 0x${magic.toString(16)}`);
    const reply: Reply = { cookie: 0n, error: 0, chunkTypes: [] };
    const parts: Buffer[] = [];
    for (let first = true; ; first = false) {
      const header = first ? await this.read(16, timeoutMs) : (await this.read(20, timeoutMs)).subarray(4);
      const flags = header.readUInt16BE(0);
      const type = header.readUInt16BE(2);
      reply.cookie = header.readBigUInt64BE(4);
      const payload = await this.read(header.readUInt32BE(12), timeoutMs);
      reply.chunkTypes!.push(type);
      if (type === REPLY_TYPE.OFFSET_DATA) parts.push(payload.subarray(8));
      if (type & 0x8000) {
        reply.error = payload.readUInt32BE(0);
        const messageLength = payload.readUInt16BE(4);
        reply.message = payload.subarray(6, 6 + messageLength).toString();
        if (type === REPLY_TYPE.ERROR_OFFSET) reply.errorOffset = payload.readBigUInt64BE(6 + messageLength);
      }
      if (flags & 1) break;
    }
    this.pendingReads.delete(reply.cookie);
    if (reply.chunkTypes!.includes(REPLY_TYPE.OFFSET_DATA)) reply.data = Buffer.concat(parts);
    return reply;
  }

  /** Upgrade this connection with TLS (after NBD_REP_ACK to STARTTLS), trusting `ca`. */
  async startTls(ca: Buffer): Promise<TLSSocket> {
    this.socket.removeAllListeners('data');
    const secure = tlsConnect({ socket: this.socket, ca, servername: 'localhost' });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
    this.socket = secure;
    this.attach(secure);
    return secure;
  }

  /** NBD_CMD_DISC, then wait for the server to close. */
  async disconnect(): Promise<void> {
    this.request(CMD.DISC, 0, 0);
    await this.closesWithin();
  }

  destroy(): void {
    this.socket.destroy();
  }
}
