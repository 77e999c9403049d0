/** `[offset, length]` pieces of a read, cut at block boundaries: every whole block is one piece. */
export function blockPieces(offset: number, length: number, blockSize: number): Array<[number, number]> {
  const pieces: Array<[number, number]> = [];
  for (let at = offset, end = offset + length; at < end;) {
    const next = Math.min(end, (Math.floor(at / blockSize) + 1) * blockSize);
    pieces.push([at, next - at]);
    at = next;
  }
  return pieces;
}
