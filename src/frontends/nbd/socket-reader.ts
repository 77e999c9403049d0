import type { Duplex } from 'node:stream';

/** The peer closed the connection, or it failed, before the bytes asked for arrived. */
export class ConnectionEndedError extends Error {
  constructor(
    /** True when nothing of the message being read had arrived: a close between messages. */
    readonly atBoundary: boolean,
    reason: string,
  ) {
    super(reason);
    this.name = 'ConnectionEndedError';
  }
}

interface PendingRead {
  length: number;
  /** Bytes to drop rather than keep (a payload the server refuses without storing it). */
  discard: boolean;
  resolve(data: Buffer): void;
  reject(error: Error): void;
}

/**
 * Exact-length reads from a socket: the NBD protocol is a stream of fixed headers and
 * length-prefixed payloads. Backpressure: while nobody is asking for bytes and `highWater` bytes
 * are waiting, the socket is paused, so a client that sends faster than requests are served
 * fills the kernel's buffers and is slowed by TCP rather than by our memory.
 */
export class SocketReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private pending: PendingRead | undefined;
  /** Set once the socket can deliver nothing more; later reads fail with it. */
  private ended: { reason: string } | undefined;
  private readonly onData = (chunk: Buffer) => this.take(chunk);
  private readonly onEnd = () => this.finish('the client closed the connection');
  private readonly onClose = () => this.finish('the connection closed');
  private readonly onError = (error: Error) => this.finish(`the connection failed: ${error.message}`);

  constructor(private readonly socket: Duplex, private readonly highWater = 256 * 1024) {
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onClose);
    socket.on('error', this.onError);
  }

  /** The next `length` bytes. At most one read or skip is outstanding at a time. */
  read(length: number): Promise<Buffer> {
    return this.request(length, false);
  }

  /** Drop the next `length` bytes as they arrive, keeping none of them in memory. */
  async skip(length: number): Promise<void> {
    await this.request(length, true);
  }

  /** Bytes received and not yet read. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /**
   * Stop reading this socket (STARTTLS hands it to TLS; a stopping connection reads no more). A
   * pending read fails with `reason`.
   */
  detach(reason: string): void {
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    this.socket.off('close', this.onClose);
    this.socket.off('error', this.onError);
    this.socket.pause();
    this.finish(reason);
  }

  /**
   * The connection is closing: stop reading for anyone, but keep draining the socket, dropping
   * what arrives, so that the peer's end of the stream is seen and the socket can close.
   */
  discardRest(): void {
    this.detach('the connection is closing');
    this.chunks = [];
    this.buffered = 0;
    this.socket.on('data', () => {});
    this.socket.resume();
  }

  private request(length: number, discard: boolean): Promise<Buffer> {
    if (this.pending) return Promise.reject(new Error('SocketReader: a read is already outstanding'));
    return new Promise<Buffer>((resolve, reject) => {
      this.pending = { length, discard, resolve, reject };
      this.serve();
      if (this.pending) {
        if (this.ended) this.failPending();
        else this.socket.resume();
      }
    });
  }

  private take(chunk: Buffer): void {
    const pending = this.pending;
    if (pending?.discard && this.buffered === 0) {
      // Dropped as it arrives; only the part past the skipped payload is kept.
      const dropped = Math.min(pending.length, chunk.length);
      pending.length -= dropped;
      chunk = chunk.subarray(dropped);
      if (pending.length === 0) {
        this.pending = undefined;
        pending.resolve(Buffer.alloc(0));
      }
      if (chunk.length === 0) return;
    }
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    this.serve();
    if (!this.pending && this.buffered >= this.highWater) this.socket.pause();
  }

  private serve(): void {
    const pending = this.pending;
    if (!pending) return;
    if (pending.discard) {
      const dropped = Math.min(pending.length, this.buffered);
      this.consume(dropped, false);
      pending.length -= dropped;
      if (pending.length > 0) return;
      this.pending = undefined;
      pending.resolve(Buffer.alloc(0));
      return;
    }
    if (this.buffered < pending.length) return;
    this.pending = undefined;
    pending.resolve(this.consume(pending.length, true));
  }

  /** Take `length` bytes off the front; one copy only when they span chunks. */
  private consume(length: number, keep: boolean): Buffer {
    this.buffered -= length;
    const first = this.chunks[0];
    if (first && first.length >= length) {
      const result = first.subarray(0, length);
      if (first.length === length) this.chunks.shift();
      else this.chunks[0] = first.subarray(length);
      return result;
    }
    const result = keep ? Buffer.allocUnsafe(length) : Buffer.alloc(0);
    let at = 0;
    while (at < length) {
      const chunk = this.chunks[0]!;
      const part = Math.min(chunk.length, length - at);
      if (keep) chunk.copy(result, at, 0, part);
      at += part;
      if (part === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(part);
    }
    return result;
  }

  private finish(reason: string): void {
    this.ended ??= { reason };
    this.failPending();
  }

  private failPending(): void {
    const pending = this.pending;
    if (!pending || !this.ended) return;
    this.pending = undefined;
    // A message that had not begun: the peer closed between messages (a clean close in the
    // handshake or between requests); otherwise it was cut off in the middle.
    const atBoundary = this.buffered === 0 && !pending.discard;
    pending.reject(new ConnectionEndedError(atBoundary, this.ended.reason));
  }
}
