/** Block numbers print as the C tool prints them: 8 lowercase hex digits (`%08x`). */
export function formatBlockNumber(block: number): string {
  return block.toString(16).padStart(8, '0');
}
