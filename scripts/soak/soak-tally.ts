import type { Mismatch } from './mismatch.js';
import type { SoakOperation } from './soak-workload.js';

/** Mismatches kept in full (all are counted): the first ones are what someone debugging needs. */
const KEPT_MISMATCHES = 20;

/** Operations of one kind: how many the device acknowledged and how many it failed. */
export interface KindCount {
  ok: number;
  failed: number;
}

/** An operation's label in the report: kind and range shape, zero writes apart (`write block`, `write zero partial`). */
export function operationLabel(op: SoakOperation): string {
  if (op.kind === 'flush') return 'flush';
  if (op.kind === 'write' && op.zero) return `write zero ${op.shape}`;
  return `${op.kind} ${op.shape}`;
}

/** What the soak counts as it goes. */
export class SoakTally {
  /** Operations handed to workers (the --ops bound counts these). */
  started = 0;
  completed = 0;
  readonly byLabel = new Map<string, KindCount>();
  /** Why operations failed, by error code (S3B_...). */
  readonly failures = new Map<string, number>();
  bytesRead = 0;
  bytesWritten = 0;
  readonly mismatches: Mismatch[] = [];
  mismatchCount = 0;
  checkpointsVerified = 0;
  /** Checkpoints whose flush failed (an outage, say): nothing to compare then. */
  checkpointsSkipped = 0;
  /** Log lines by level and source (`warn block-cache`), so the report says what the engine complained about. */
  readonly logLines = new Map<string, number>();

  succeeded(op: SoakOperation): void {
    this.count(op).ok++;
    this.completed++;
    if (op.kind === 'read') this.bytesRead += op.length;
    else if (op.kind === 'write') this.bytesWritten += op.data.length;
  }

  failed(op: SoakOperation, error: unknown): void {
    this.count(op).failed++;
    this.completed++;
    const code = (error as { code?: unknown } | null)?.code;
    const key = typeof code === 'string' ? code : error instanceof Error ? error.name : String(error);
    this.failures.set(key, (this.failures.get(key) ?? 0) + 1);
  }

  mismatch(found: Mismatch): void {
    this.mismatchCount++;
    if (this.mismatches.length < KEPT_MISMATCHES) this.mismatches.push(found);
  }

  logged(level: string, source: string): void {
    const key = `${level} ${source}`;
    this.logLines.set(key, (this.logLines.get(key) ?? 0) + 1);
  }

  private count(op: SoakOperation): KindCount {
    const label = operationLabel(op);
    let entry = this.byLabel.get(label);
    if (!entry) this.byLabel.set(label, (entry = { ok: 0, failed: 0 }));
    return entry;
  }
}
