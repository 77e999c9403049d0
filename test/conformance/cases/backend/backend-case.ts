import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { isS3BackerError, type ErrorCode, type ObjectStore } from 's3backer';

/** What a case needs of node:test's TestContext: skipping, with the reason printed. */
export interface CaseContext {
  skip(message?: string): void;
}

/** One backend conformance case: gets a fresh, opened, empty store; the suite closes it after. */
export interface BackendCase {
  name: string;
  run(store: ObjectStore, t: CaseContext): Promise<void>;
}

export async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of iterable) keys.push(key);
  return keys;
}

export function randomBody(size: number): Buffer {
  return randomBytes(size);
}

/** Run `jobs` with at most `width` in flight. */
export async function inBatches<T>(items: readonly T[], width: number, job: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += width) await Promise.all(items.slice(i, i + width).map(job));
}

export async function assertRejectsWithCode(promise: Promise<unknown>, code: ErrorCode, what: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isS3BackerError(error, code), `${what}: expected an S3BackerError ${code}, got ${String(error)}`);
    return true;
  });
}

/** Skip a case the store declares it cannot pass; true when skipped. */
export function skipUnless(t: CaseContext, supported: boolean, reason: string): boolean {
  if (!supported) t.skip(reason);
  return !supported;
}
