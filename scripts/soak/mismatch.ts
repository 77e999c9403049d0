/** Where a read (or the store after a flush, or the volume after remount) disagreed with the oracle. */
export interface Mismatch {
  /** Which check found it: a worker's read, a checkpoint (store after a quiet flush), or the remount at the end. */
  phase: 'read' | 'checkpoint' | 'durability';
  block: number;
  /** First byte inside the block that differs from the last acknowledged write. */
  offsetInBlock: number;
  /** The same byte as an offset on the disk. */
  diskOffset: number;
  /** Bytes that differ in the piece checked (of `checkedBytes`). */
  differingBytes: number;
  checkedBytes: number;
  /** Up to 16 bytes from `offsetInBlock`, hex: what the oracle expected and what came back. */
  expected: string;
  got: string;
  /** Versions of the block a read racing writes could legitimately have seen (1 when nothing raced it). */
  acceptable: number;
  /** What was running: worker and its operation number, or the phase's own description. */
  context: string;
}

export function formatMismatch(mismatch: Mismatch, seed: number): string {
  const { phase, block, offsetInBlock, diskOffset, differingBytes, checkedBytes, expected, got, acceptable, context } = mismatch;
  return `MISMATCH (${phase}) block ${block} offset ${offsetInBlock} in the block (disk offset ${diskOffset}), seed ${seed}: ` +
    `${differingBytes} of ${checkedBytes} bytes differ; expected ${expected}, got ${got}` +
    `${acceptable > 1 ? ` (matched none of ${acceptable} versions a racing write allowed)` : ''}; ${context}`;
}
