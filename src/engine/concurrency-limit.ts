/**
 * At most `limit` tasks running at once; `run` waits for room (first come, first served). The one
 * concurrency limiter of the code base: the block device's pieces of a request, the erase's
 * deletes.
 */
export class ConcurrencyLimit {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`a concurrency limit must be a positive integer, got ${limit}`);
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    while (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
    try {
      return await task();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}

/**
 * `fn` for every item, at most `limit` at once. After the first failure no new item starts; the
 * ones running finish, then it rejects with that failure.
 */
export async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  if (items.length === 1) return fn(items[0]!);
  const gate = new ConcurrencyLimit(limit);
  let failure: { error: unknown } | undefined;
  await Promise.all(items.map((item) => gate.run(async () => {
    if (failure) return;
    try {
      await fn(item);
    } catch (error) {
      failure ??= { error };
    }
  })));
  if (failure) throw failure.error;
}
