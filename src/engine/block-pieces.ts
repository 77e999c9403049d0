/** Part of one block touched by a byte range: where in the block, and where in the caller's buffer. */
export interface BlockPiece {
  block: number;
  /** Offset inside the block. */
  start: number;
  length: number;
  /** Offset inside the request's buffer. */
  at: number;
}

/**
 * The blocks a byte range covers, in order, each with the part of it the range touches: how the
 * block device splits a request, and how a front end or a checker cuts a range at block
 * boundaries (every whole block is one piece).
 */
export function blockPieces(blockSize: number, offset: number, length: number): BlockPiece[] {
  const pieces: BlockPiece[] = [];
  for (let at = 0; at < length;) {
    const position = offset + at;
    const block = Math.floor(position / blockSize);
    const start = position - block * blockSize;
    const pieceLength = Math.min(blockSize - start, length - at);
    pieces.push({ block, start, length: pieceLength, at });
    at += pieceLength;
  }
  return pieces;
}
