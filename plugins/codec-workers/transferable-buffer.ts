/**
 * Bytes on their way between threads. `postMessage` can move an ArrayBuffer (transfer: no copy,
 * the sender's copy is detached) or clone it; a Node Buffer is often a view of a larger shared
 * ArrayBuffer (Node's 8 KiB pool of small Buffers, a slice of a bigger read), and cloning a view
 * clones its whole ArrayBuffer. So bytes cross as an ArrayBuffer of their own plus a length.
 */
export interface MovedBytes {
  readonly buffer: ArrayBuffer;
  readonly length: number;
}

/**
 * A copy of `source` in an ArrayBuffer of its own, `extra` bytes longer (for the caller to fill),
 * to move to a worker. For bytes the caller does not own (a tap must neither keep nor change the
 * buffers it is handed, so it cannot detach them): this copy is the price, one memcpy on the
 * sending thread.
 */
export function transferableCopy(source: Uint8Array, extra = 0): Buffer {
  // allocUnsafeSlow: a fresh ArrayBuffer of exactly this size, never a slice of the shared pool.
  const copy = Buffer.allocUnsafeSlow(source.length + extra);
  copy.set(source);
  return copy;
}

/**
 * `bytes` as MovedBytes. When the caller owns the whole ArrayBuffer behind them (`owned`: a buffer
 * it made for this reply, such as a cipher's output), that ArrayBuffer is moved as it is, trailing
 * bytes included; otherwise the bytes are copied into one of their own first.
 */
export function movedBytes(bytes: Uint8Array, owned: boolean): MovedBytes {
  if (owned && bytes.byteOffset === 0 && bytes.buffer instanceof ArrayBuffer) return { buffer: bytes.buffer, length: bytes.length };
  return { buffer: transferableCopy(bytes).buffer as ArrayBuffer, length: bytes.length };
}

/** The Buffer over bytes that arrived as MovedBytes (no copy). */
export function viewOf(moved: MovedBytes): Buffer {
  return Buffer.from(moved.buffer, 0, moved.length);
}
