// The rows as an SVG chart (hand-written SVG text, no dependency): one horizontal bar per row, its
// length the ratio to the same-run ceiling (its value at the bar's end), a tick at the row's
// target, a dashed line at 1.0 (the ceiling itself), and the absolute figures in a column on the
// right, so a reader sees at a glance which rows are near their ceiling. Rows without a ceiling
// get no bar, only their figure.
import { writeFile } from 'node:fs/promises';
import { formatSize } from './bench-options.js';
import type { BenchRow } from './bench-row.js';
import { formatValue } from './bench-table.js';

const WIDTH = 1200;
const LABEL_WIDTH = 330;
const BAR_WIDTH = 380;
/** Where the absolute figures start: after the bars and room for the ratio printed at a full bar's end. */
const FIGURES_X = LABEL_WIDTH + BAR_WIDTH + 50;
const ROW_HEIGHT = 20;
const GROUP_GAP = 30;
const TOP = 96;
const COLORS = { met: '#2e7d32', missed: '#e65100', noTarget: '#1565c0', text: '#212121', muted: '#757575', grid: '#bdbdbd' };

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export interface ChartCaption {
  title: string;
  /** One line under the title: when, which code, which machine. */
  subtitle: string;
}

export function renderChart(rows: readonly BenchRow[], caption: ChartCaption): string {
  const ratios = rows.flatMap((row) => (row.ratio === undefined ? [] : [row.ratio]));
  // The scale: at least 0..1.0 (the ceiling), rounded up to a quarter.
  const scaleMax = Math.max(1, Math.ceil(Math.max(0, ...ratios) * 4) / 4);
  const x = (ratio: number) => LABEL_WIDTH + (Math.min(ratio, scaleMax) / scaleMax) * BAR_WIDTH;
  const body: string[] = [];
  let y = TOP;
  let group = '';
  for (const row of rows) {
    const thisGroup = `${formatSize(row.blockSize)} blocks · ${row.store}`;
    if (thisGroup !== group) {
      y += group ? GROUP_GAP - ROW_HEIGHT / 2 : 0;
      body.push(`<text x="8" y="${y + 4}" font-weight="bold">${escape(thisGroup)}</text>`);
      y += ROW_HEIGHT;
      group = thisGroup;
    }
    const mid = y + ROW_HEIGHT / 2;
    body.push(`<text x="${LABEL_WIDTH - 8}" y="${mid + 4}" text-anchor="end">${escape(row.title)}</text>`);
    if (row.ratio !== undefined && row.ceiling) {
      const color = row.target === undefined ? COLORS.noTarget : row.meetsTarget ? COLORS.met : COLORS.missed;
      const end = x(row.ratio);
      body.push(`<rect x="${LABEL_WIDTH}" y="${y + 3}" width="${(end - LABEL_WIDTH).toFixed(1)}" height="${ROW_HEIGHT - 6}" fill="${color}"><title>${escape(`${row.id}: ${row.ratio.toFixed(3)} of ${row.ceiling.name}`)}</title></rect>`);
      if (row.target !== undefined) body.push(`<line x1="${x(row.target).toFixed(1)}" x2="${x(row.target).toFixed(1)}" y1="${y + 1}" y2="${y + ROW_HEIGHT - 1}" stroke="${COLORS.text}" stroke-width="2"/>`);
      body.push(`<text x="${(Math.max(end, row.target === undefined ? 0 : x(row.target)) + 5).toFixed(1)}" y="${mid + 4}" font-weight="bold">${row.ratio.toFixed(2)}</text>`);
      body.push(`<text x="${FIGURES_X}" y="${mid + 4}">${escape(`${formatValue(row.value, row.unit)} of ${formatValue(row.ceiling.value, row.ceiling.unit)} (${row.ceiling.name})`)}</text>`);
    } else {
      body.push(`<text x="${LABEL_WIDTH + 5}" y="${mid + 4}" fill="${COLORS.muted}">no ceiling</text>`);
      body.push(`<text x="${FIGURES_X}" y="${mid + 4}">${escape(formatValue(row.value, row.unit))}</text>`);
    }
    y += ROW_HEIGHT;
  }
  const height = y + 40;
  const grid: string[] = [];
  for (let tick = 0; tick <= scaleMax + 1e-9; tick += 0.25) {
    const at = x(tick).toFixed(1);
    const strong = Math.abs(tick - 1) < 1e-9;
    grid.push(`<line x1="${at}" x2="${at}" y1="${TOP - 6}" y2="${y}" stroke="${strong ? COLORS.text : COLORS.grid}" stroke-width="1"${strong ? ' stroke-dasharray="4 3"' : ''}/>`);
    grid.push(`<text x="${at}" y="${TOP - 10}" text-anchor="middle" fill="${COLORS.muted}">${tick.toFixed(2)}</text>`);
  }
  const legend = [
    [COLORS.met, 'target met'], [COLORS.missed, 'target missed'], [COLORS.noTarget, 'ratio, no target'],
  ].map(([color, text], i) => `<rect x="${LABEL_WIDTH + i * 150}" y="${height - 24}" width="12" height="12" fill="${color}"/><text x="${LABEL_WIDTH + i * 150 + 18}" y="${height - 14}">${text}</text>`);
  legend.push(`<text x="${LABEL_WIDTH + 450}" y="${height - 14}" fill="${COLORS.muted}">dashed line: 1.0 = the ceiling; black tick: the row's target</text>`);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12" fill="${COLORS.text}">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="8" y="22" font-size="16" font-weight="bold">${escape(caption.title)}</text>`,
    `<text x="8" y="42" fill="${COLORS.muted}">${escape(caption.subtitle)}</text>`,
    `<text x="${LABEL_WIDTH}" y="${TOP - 28}" fill="${COLORS.muted}">ratio to the same-run ceiling</text>`,
    ...grid,
    ...body,
    ...legend,
    `<text x="${FIGURES_X}" y="${TOP - 28}" fill="${COLORS.muted}">figure of ceiling (ceiling)</text>`,
    '</svg>',
    '',
  ].join('\n');
}

export async function writeChart(path: string, rows: readonly BenchRow[], caption: ChartCaption): Promise<void> {
  await writeFile(path, renderChart(rows, caption));
}
