/**
 * One lock per key (block number): `run(key, fn)` runs fn after every earlier fn of the same key
 * settled. This is what keeps two writes of one block in order and read-modify-write atomic.
 */
export class KeyedMutex {
  private readonly tails = new Map<number, Promise<unknown>>();

  async run<T>(key: number, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key);
    const current = (previous ? previous.then(fn, fn) : fn());
    const tail = current.then(() => undefined, () => undefined);
    this.tails.set(key, tail);
    try {
      return await current;
    } finally {
      // Forget the key once nobody queued behind us, so the map holds only busy blocks.
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
