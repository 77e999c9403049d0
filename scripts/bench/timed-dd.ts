// dd as the workload driver: `bytes` moved in requests of `bs`, timed from spawn to exit (so a
// conv=fdatasync write includes the flush to the store). MB/s are 10^6 bytes per second, as dd prints.
import { mustRunTracked } from './run-tracked.js';

export interface DdResult {
  mbps: number;
  seconds: number;
}

export async function timedDd(operands: readonly string[], bs: number, bytes: number): Promise<DdResult> {
  const { seconds } = await mustRunTracked('dd', [...operands, `bs=${bs}`, `count=${bytes / bs}`, 'status=none']);
  return { mbps: bytes / seconds / 1e6, seconds };
}
