/**
 * One lock per object name: `run(key, fn)` starts fn after every earlier fn of the same key
 * settled. The dir store needs it because an object is two files (body and metadata sidecar) that
 * a reader must see from the same write (the engine's KeyedMutex is keyed by block number; the
 * store sees names).
 */
export class KeyLock {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key);
    const current = previous ? previous.then(fn) : fn();
    const tail = current.then(() => undefined, () => undefined);
    this.tails.set(key, tail);
    try {
      return await current;
    } finally {
      // Forget the key once nobody queued behind us, so the map holds only busy names.
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
