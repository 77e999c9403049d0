// The rows as the text table a run prints at the end: one line per row, grouped by block size and
// store, with the ratio to the ceiling, the requests against the blocks touched, and the costs.
import { formatSize } from './bench-options.js';
import type { BenchRow } from './bench-row.js';

const pad = (text: string, width: number) => text.padEnd(width);
const lpad = (text: string, width: number) => text.padStart(width);
const fixed = (value: number | undefined, digits = 1) => (value === undefined || Number.isNaN(value) ? '-' : value.toFixed(digits));

/** A row's figure with the precision its unit deserves. */
export function formatValue(value: number, unit: string): string {
  return `${value.toFixed(unit === 'MB/s' ? 1 : 0)} ${unit}`;
}

/** The CPU keys that are not the server: the rest of a row's cpu record is the server's processes. */
const NOT_SERVER = new Set(['s3backer', 'bench', 'tools', 'machine', 'outside']);

export function serverCores(row: BenchRow): number | undefined {
  const entries = Object.entries(row.cpu).filter(([name]) => !NOT_SERVER.has(name));
  return entries.length ? entries.reduce((sum, [, figure]) => sum + figure.cores, 0) : undefined;
}

/** `ok`, `+N` (N requests more than the rule allows) or `?` (no exact count of blocks to judge by). */
export function requestsVerdict(row: BenchRow): string {
  const check = row.requests;
  if (!check) return '-';
  return check.ok === true ? 'ok' : check.ok === false ? `+${check.excess}` : '?';
}

export function formatTable(rows: readonly BenchRow[]): string {
  const header = [pad('block', 7), pad('store', 7), pad('workload', 36), lpad('figure', 14), lpad('ceiling', 10), lpad('ratio', 6), pad(' target', 11),
    lpad('PUT', 6), lpad('GET', 6), lpad('DEL', 5), lpad('touched', 8), lpad('req', 5), lpad('s3b CPU s', 9), lpad('cores', 6), lpad('server', 7), lpad('outside', 7), lpad('RSS peak', 8), pad(' (limit)', 12)].join(' ');
  const lines = [header, '-'.repeat(header.length)];
  let group = '';
  for (const row of rows) {
    const thisGroup = `${row.blockSize} ${row.store}`;
    if (group && thisGroup !== group) lines.push('');
    group = thisGroup;
    const r = row.requests;
    const touched = r?.touched ? `${r.touched.exact ? '' : '≥'}${r.touched.blocks}` : '-';
    const rss = row.process;
    lines.push([
      pad(formatSize(row.blockSize), 7),
      pad(row.store, 7),
      pad(row.title, 36),
      lpad(formatValue(row.value, row.unit), 14),
      lpad(row.ceiling ? fixed(row.ceiling.value, row.ceiling.unit === 'MB/s' ? 1 : 0) : '-', 10),
      lpad(fixed(row.ratio, 2), 6),
      pad(row.target === undefined ? '' : ` ≥${row.target.toFixed(2)} ${row.meetsTarget ? 'ok' : 'MISS'}`, 11),
      lpad(r ? String(r.puts) : '-', 6),
      lpad(r ? String(r.gets) : '-', 6),
      lpad(r ? String(r.deletes) : '-', 5),
      lpad(touched, 8),
      lpad(requestsVerdict(row), 5),
      lpad(fixed(row.cpu.s3backer?.seconds, 2), 9),
      lpad(fixed(row.cpu.s3backer?.cores, 2), 6),
      lpad(fixed(serverCores(row), 2), 7),
      lpad(fixed(row.cpu.outside?.cores, 2), 7),
      lpad(fixed(rss.peakRssMiB, 0), 8),
      pad(rss.rssLimitMiB === undefined ? '' : ` (≤${rss.rssLimitMiB.toFixed(0)} ${rss.meetsRss ? 'ok' : 'MISS'})`, 12),
    ].join(' '));
  }
  return lines.join('\n');
}

/** What the columns mean, printed above the table. */
export const TABLE_LEGEND = [
  'figure: MB/s = 10^6 B/s, IOPS (4 KiB requests), files/s; ceiling: the same-run ceiling in the same unit; ratio = figure / ceiling',
  'PUT/GET/DEL: S3 requests over the step (the mount\'s stats file); touched: blocks the step touched (≥: a lower bound, ext4 metadata not counted);',
  'req: ok = no more requests than the blocks touched allow, +N = N more, ? = no exact count to judge by (each row\'s rule is in the JSON)',
  's3b CPU s / cores: the s3backer process (all threads) over the step; server: the server\'s processes, cores;',
  'outside: cores used by everything outside this benchmark over the step (other users, kernel threads): above ~0.1 the figure was disturbed;',
  'RSS peak: the s3backer process\'s VmHWM over the step, MiB (limit on server mounts: block cache + 150 MiB)',
].join('\n');
