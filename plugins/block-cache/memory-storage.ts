import type { CacheStorage, CacheContents } from './cache-storage.js';

/**
 * The default storage: block bytes in memory, lost at exit. Buffers are kept as handed over and
 * handed out as kept (the cache never writes into them), so a hit costs no copy.
 */
export class MemoryStorage implements CacheStorage {
  readonly description = 'memory';
  readonly persistent = false;
  private readonly blocks = new Map<number, Buffer>();

  async open(): Promise<CacheContents> {
    return { mountToken: undefined, blocks: [] };
  }

  async read(block: number): Promise<Buffer> {
    const data = this.blocks.get(block);
    if (!data) throw new Error(`block ${block} is not in the memory cache (a cache bug: read after remove)`);
    return data;
  }

  async putDirty(block: number, data: Buffer): Promise<void> {
    this.blocks.set(block, data);
  }

  async patch(block: number, offset: number, data: Buffer): Promise<void> {
    data.copy(await this.read(block), offset);
  }

  async putClean(block: number, data: Buffer): Promise<void> {
    this.blocks.set(block, data);
  }

  async markClean(): Promise<void> {}

  async remove(block: number): Promise<void> {
    this.blocks.delete(block);
  }

  async close(): Promise<void> {
    this.blocks.clear();
  }
}
