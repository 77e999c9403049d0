// The benchmark's figures: one row per workload and block size, printed as a table next to the
// same-run ceilings and written as JSON.
import { writeFile } from 'node:fs/promises';
import { formatSize } from './bench-options.js';
import type { ProfileSummary } from './cpu-profile-summary.js';

export interface CpuFigure {
  seconds: number;
  cores: number;
  /** For s3backer and s3rver: the part spent in the kernel (system calls: /dev/fuse, sockets, page faults). */
  systemSeconds?: number;
}

export interface BenchRow {
  blockSize: number;
  store: 'memory' | 's3rver';
  workload: string;
  mbps: number;
  seconds: number;
  ceiling: { name: string; mbps: number };
  ratio: number;
  target: number;
  meetsTarget: boolean;
  /** S3 requests during the measured phase (stats file before/after), and what a sequential pass needs. */
  requests?: { puts: number; gets: number; deletes: number; expectedPuts: number; expectedGets: number; expectedNote?: string };
  /** CPU over the measured phase: s3backer (all its threads), s3rver, and the benchmark process itself. */
  cpu: Record<string, CpuFigure>;
  /** The s3backer process: CPU seconds over its whole life up to just before unmount, and peak RSS (VmHWM) then. */
  process: { pid: number; lifetimeCpuSeconds: number; rssAtMountMiB: number; peakRssMiB: number; rssLimitMiB?: number; meetsRss?: boolean };
  /** Every numeric stats-file counter's change over the phase (block cache hits, zero blocks ...). */
  counterDeltas?: Record<string, number>;
  profile?: ProfileSummary;
  notes: string[];
}

const pad = (text: string, width: number) => text.padEnd(width);
const lpad = (text: string, width: number) => text.padStart(width);
const fixed = (value: number | undefined, digits = 1) => (value === undefined || Number.isNaN(value) ? '-' : value.toFixed(digits));

export function formatTable(rows: readonly BenchRow[]): string {
  const header = [pad('block', 7), pad('workload', 44), lpad('MB/s', 7), lpad('ceiling', 8), lpad('ratio', 6), pad(' target', 12),
    lpad('PUT act/exp', 12), lpad('GET act/exp', 12), lpad('DEL', 5), lpad('s3b CPU s', 10), lpad('s3b cores', 9), lpad('s3rver cores', 12), lpad('outside', 7), lpad('RSS MiB peak/mount', 18), pad(' (limit)', 12)].join(' ');
  const lines = [header, '-'.repeat(header.length)];
  for (const row of rows) {
    const r = row.requests;
    const rss = row.process;
    lines.push([
      pad(formatSize(row.blockSize), 7),
      pad(row.workload, 44),
      lpad(fixed(row.mbps), 7),
      lpad(fixed(row.ceiling.mbps), 8),
      lpad(fixed(row.ratio, 2), 6),
      pad(` ≥${row.target.toFixed(2)} ${row.meetsTarget ? 'ok' : 'MISS'}`, 12),
      lpad(r ? `${r.puts}/${r.expectedPuts}` : '-', 12),
      lpad(r ? `${r.gets}/${r.expectedGets}` : '-', 12),
      lpad(r ? String(r.deletes) : '-', 5),
      lpad(fixed(row.cpu.s3backer?.seconds, 2), 10),
      lpad(fixed(row.cpu.s3backer?.cores, 2), 9),
      lpad(fixed(row.cpu.s3rver?.cores, 2), 12),
      lpad(fixed(row.cpu.outside?.cores, 2), 7),
      lpad(`${fixed(rss.peakRssMiB, 0)}/${fixed(rss.rssAtMountMiB, 0)}`, 18),
      pad(rss.rssLimitMiB === undefined ? ' (n/a)' : ` (≤${rss.rssLimitMiB.toFixed(0)} ${rss.meetsRss ? 'ok' : 'MISS'})`, 12),
    ].join(' '));
  }
  return lines.join('\n');
}

export async function writeJson(path: string, document: unknown): Promise<void> {
  await writeFile(path, JSON.stringify(document, null, 2) + '\n');
}
