import type { EngineHooks, WriteRequest, PartialWriteRequest } from './hooks.js';
import type { ObjectPipeline } from './object-pipeline.js';
import type { BlockIo } from './block-device.js';

/**
 * Whole-block operations through the block-tier hooks: a `readBlock`/`writeBlock` tap may answer
 * (zero map, cache); otherwise the object pipeline goes to the store. Observers (`blockRead`,
 * `blockWritten`, `trim`) then learn what happened.
 */
export class BlockTier implements BlockIo {
  constructor(
    private readonly hooks: EngineHooks,
    private readonly objects: ObjectPipeline,
  ) {}

  async readBlock(block: number): Promise<Buffer> {
    const request = { block, key: this.objects.geometry.key(block) };
    if (this.hooks.readBlock.isUsed()) {
      const answer = await this.hooks.readBlock.promise(request);
      if (answer) return answer;
    }
    return (await this.fetch(block)).data;
  }

  /** Read a block from the object tier, below every `readBlock` tap, and tell the `blockRead` observers (a cache's miss path). */
  async fetch(block: number): Promise<{ data: Buffer; etag: string | undefined }> {
    const fetched = await this.objects.fetch(block);
    if (this.hooks.blockRead.isUsed()) await this.hooks.blockRead.promise({ block, key: this.objects.geometry.key(block) }, fetched.data);
    return fetched;
  }

  async writeBlock(block: number, data: Buffer, owned = false): Promise<void> {
    const request: WriteRequest = { block, key: this.objects.geometry.key(block), data, isZero: this.objects.isZero(data), owned };
    const handled = this.hooks.writeBlock.isUsed() ? await this.hooks.writeBlock.promise(request) : undefined;
    if (!handled) await this.objects.write(block, data, request.isZero);
    if (this.hooks.blockWritten.isUsed()) await this.hooks.blockWritten.promise(request);
  }

  async writePart(block: number, offset: number, data: Buffer): Promise<boolean> {
    if (!this.hooks.writeBlockPart.isUsed()) return false;
    const request: PartialWriteRequest = { block, key: this.objects.geometry.key(block), offset, data, isZero: this.objects.isZero(data) };
    return (await this.hooks.writeBlockPart.promise(request)) === true;
  }

  async trimmed(first: number, count: number): Promise<void> {
    if (this.hooks.trim.isUsed()) await this.hooks.trim.promise({ first, count });
  }

  async flush(): Promise<void> {
    if (this.hooks.flush.isUsed()) await this.hooks.flush.promise();
  }
}
