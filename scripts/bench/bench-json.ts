// The run's figures as one JSON document: what ran (command, code, machine, settings, targets),
// every ceiling, every row with all its figures, and the codec benchmark's when it ran. The
// integration test reads `rows` (every row must carry a number) and `expectedRows`.
import { writeFile } from 'node:fs/promises';
import type { BenchRow } from './bench-row.js';

export interface BenchDocument {
  command: string;
  startedAt: string;
  durationSeconds: number;
  machine: Record<string, unknown>;
  code: { commit: string | undefined; uncommittedFiles: number | undefined };
  settings: Record<string, unknown>;
  targets: Record<string, unknown>;
  /** Per block size: each ceiling measured for it. */
  ceilings: Record<string, unknown>;
  /** The row ids this run was asked for (store × block size × producer steps): each must be in `rows`. */
  expectedRows: string[];
  rows: BenchRow[];
  codecs?: unknown;
}

export async function writeJson(path: string, document: BenchDocument): Promise<void> {
  await writeFile(path, JSON.stringify(document, null, 2) + '\n');
}
