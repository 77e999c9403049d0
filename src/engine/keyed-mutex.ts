/**
 * One lock per key: `run(key, fn)` runs fn after every earlier fn of the same key settled. Keyed
 * by block number, it keeps two writes of one block in order and read-modify-write atomic; the dir
 * store keys it by object name so a reader sees body and sidecar from the same write.
 */
export class KeyedMutex<K = number> {
  private readonly tails = new Map<K, Promise<unknown>>();

  async run<T>(key: K, fn: () => Promise<T>): Promise<T> {
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
