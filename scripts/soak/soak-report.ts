import { CHAOS_FAULT_KINDS } from '../../plugins/chaos/index.js';
import type { SoakResult } from './soak-run.js';

const MiB = 1024 * 1024;
const thousands = (n: number) => n.toLocaleString('en-US');

/** The soak's closing report: operations by kind, bytes verified, faults injected by kind, acknowledged writes lost, seed. */
export function formatSoakReport(result: SoakResult, argv: readonly string[] = []): string[] {
  const { options } = result;
  const lines: string[] = [];
  const seconds = result.durationMs / 1000;
  lines.push(`soak ${result.passed ? 'PASSED' : 'FAILED'}: ${thousands(result.operations)} operations in ${seconds.toFixed(1)} s (${thousands(Math.round(result.operations / seconds))}/s), seed ${result.seed}`);
  lines.push(`  volume: ${options.blocks} blocks of ${options.blockSize} bytes, block cache ${options.cacheSize} blocks${options.cacheFile ? ' (cache file)' : ''}, ${options.workers} workers, ${options.backend} store`);
  lines.push('  operations by kind (acknowledged / failed after retries):');
  for (const [label, count] of Object.entries(result.byKind)) lines.push(`    ${label.padEnd(20)} ${thousands(count.ok).padStart(12)} / ${thousands(count.failed)}`);
  const failures = Object.entries(result.failures);
  if (failures.length > 0) lines.push(`  failures by error: ${failures.map(([code, n]) => `${code} ${thousands(n)}`).join(', ')}`);
  lines.push(`  bytes written ${(result.bytesWritten / MiB).toFixed(1)} MiB, read ${(result.bytesRead / MiB).toFixed(1)} MiB; verified against the oracle ${(result.bytesVerified / MiB).toFixed(1)} MiB`);
  lines.push(`  checkpoints (quiet flush, then the store compared block by block): ${result.checkpointsVerified} verified, ${result.checkpointsSkipped} skipped (flush failed)`);
  lines.push(`  faults injected: ${CHAOS_FAULT_KINDS.map((kind) => `${kind} ${thousands(result.faults.injected[kind])}`).join(', ')} ` +
    `(of ${thousands(result.faults.requests)} store requests); ${result.faults.outagesStarted} outages of ${options.faults.outageMs} ms; retries ${thousands(result.retries)}`);
  lines.push(`  blocks with unknown bytes at the end (failed writes not rewritten, checked where known): ${result.unknownBlocksAtEnd}`);
  if (result.shutdownError) lines.push(`  shutdown failed: ${result.shutdownError}`);
  lines.push(`  acknowledged writes lost: ${result.lostWrites} (${result.lostAtRemount} blocks wrong after remount)`);
  // The same command with the seed made explicit: the same operations, data and faults (the
  // interleaving of concurrent workers still varies from run to run).
  const replay = [...argv.filter((arg, i) => !/^--seed(=|$)/.test(arg) && argv[i - 1] !== '--seed'), `--seed=${result.seed}`].join(' ');
  lines.push(`  seed: ${result.seed} (replay: npm run soak -- ${replay})`);
  return lines;
}
