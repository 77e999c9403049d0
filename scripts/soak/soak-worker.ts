import type { BlockDevice } from '../../src/engine/block-device.js';
import type { RangeOracle } from './range-oracle.js';
import type { BlockRangeLocks } from './block-range-locks.js';
import type { OperationGate } from './operation-gate.js';
import type { SoakTally } from './soak-tally.js';
import type { SoakOperation, SoakWorkload } from './soak-workload.js';

export interface WorkerContext {
  device: BlockDevice;
  oracle: RangeOracle;
  locks: BlockRangeLocks;
  gate: OperationGate;
  tally: SoakTally;
  /** Whether to start another operation (the --ops and --minutes bounds, a mismatch already found). */
  more(): boolean;
  /** Between two operations, outside the gate: where a checkpoint may stop everyone. */
  between(): Promise<void>;
}

/** One worker: operations one after another, each checked against the oracle (range-oracle.ts). */
export async function runWorker(index: number, workload: SoakWorkload, context: WorkerContext): Promise<void> {
  const { gate, tally } = context;
  for (let n = 1; context.more(); n++) {
    const op = workload.next();
    tally.started++;
    await gate.enter();
    try {
      await perform(op, `worker ${index} operation ${n}`, context);
    } finally {
      gate.leave();
    }
    await context.between();
  }
}

async function perform(op: SoakOperation, who: string, { device, oracle, locks, tally }: WorkerContext): Promise<void> {
  const { blockSize } = oracle;
  if (op.kind === 'flush') {
    await device.flush().then(() => tally.succeeded(op), (error: unknown) => tally.failed(op, error));
    return;
  }
  if (op.kind === 'read') {
    const read = oracle.beginRead(op.offset, op.length);
    let data: Buffer;
    try {
      // Both of the device's read paths: a whole block as the tier hands it, else the frontends' copy into a buffer.
      if (op.shape === 'block') data = await device.read(op.offset, op.length);
      else {
        data = Buffer.allocUnsafe(op.length);
        await device.readInto(op.offset, data);
      }
    } catch (error) {
      read.abandon();
      tally.failed(op, error);
      return;
    }
    const mismatch = read.check(data, `${who}: read of ${op.length} bytes at ${op.offset}`);
    tally.succeeded(op);
    if (mismatch) tally.mismatch(mismatch);
    return;
  }
  const length = op.kind === 'write' ? op.data.length : op.length;
  const first = Math.floor(op.offset / blockSize);
  const last = Math.floor((op.offset + length - 1) / blockSize);
  await locks.run(first, last, async () => {
    const write = oracle.beginWrite(op.offset, op.kind === 'write' ? op.data : Buffer.alloc(length));
    try {
      if (op.kind === 'write') await device.write(op.offset, op.data);
      else await device.trim(op.offset, op.length);
    } catch (error) {
      write.failed();
      tally.failed(op, error);
      return;
    }
    write.acknowledged();
    tally.succeeded(op);
  });
}
