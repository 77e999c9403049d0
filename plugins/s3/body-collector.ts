const EMPTY = Buffer.alloc(0);

/**
 * A GET body as ONE Buffer, each byte copied once at most: with a Content-Length, a body that came
 * in one socket chunk is that chunk (no copy), otherwise each chunk is copied into one buffer of
 * that length as it arrives (while it is still in the CPU cache, and then garbage, instead of
 * all of them living until a final concat); without one (chunked encoding), one concat at the end.
 */
export class BodyCollector {
  readonly expected: number | undefined;
  received = 0;
  private first: Buffer | undefined;
  private target: Buffer | undefined;
  private chunks: Buffer[] | undefined;

  constructor(contentLength: string | undefined) {
    const length = contentLength === undefined ? NaN : Number(contentLength);
    this.expected = Number.isSafeInteger(length) && length >= 0 ? length : undefined;
  }

  add(chunk: Buffer): void {
    const offset = this.received;
    this.received += chunk.length;
    if (this.target !== undefined) {
      if (this.received <= this.target.length) chunk.copy(this.target, offset);
    } else if (offset === 0 && (this.expected === undefined || chunk.length === this.expected)) {
      this.first = chunk;
    } else if (this.expected !== undefined) {
      this.target = Buffer.allocUnsafe(this.expected);
      if (this.first !== undefined) this.first.copy(this.target, 0);
      this.first = undefined;
      if (this.received <= this.target.length) chunk.copy(this.target, offset);
    } else {
      this.chunks ??= this.first === undefined ? [] : [this.first];
      this.first = undefined;
      this.chunks.push(chunk);
    }
  }

  /** The body, or undefined when it does not have the announced length. */
  result(): Buffer | undefined {
    if (this.expected !== undefined && this.received !== this.expected) return undefined;
    return this.target ?? this.first ?? (this.chunks !== undefined ? Buffer.concat(this.chunks, this.received) : EMPTY);
  }
}
