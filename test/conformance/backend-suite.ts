import type { test as nodeTest } from 'node:test';
import type { ObjectStore } from 's3backer';
import type { BackendCase } from './cases/backend/backend-case.js';
import { missingObjectCases } from './cases/backend/missing-objects.js';
import { roundTripCases } from './cases/backend/round-trip.js';
import { etagCases } from './cases/backend/etag.js';
import { overwriteDeleteCases } from './cases/backend/overwrite-delete.js';
import { listCases } from './cases/backend/list.js';
import { concurrencyCases } from './cases/backend/concurrency.js';
import { conditionalPutCases } from './cases/backend/conditional-put.js';
import { conditionalGetCases } from './cases/backend/conditional-get.js';
import { closedStoreCases } from './cases/backend/closed-store.js';
import { bufferOwnershipCases } from './cases/backend/buffer-ownership.js';

export interface BackendConformanceOptions {
  test: typeof nodeTest;
  /** Names the store in test titles, e.g. "memory" or "s3 (s3rver)". */
  name: string;
  /** A fresh, isolated, EMPTY store (not yet opened); the suite opens and closes it. */
  factory: () => Promise<ObjectStore>;
}

export const BACKEND_CASES: readonly BackendCase[] = [
  ...missingObjectCases,
  ...roundTripCases,
  ...etagCases,
  ...overwriteDeleteCases,
  ...listCases,
  ...concurrencyCases,
  ...conditionalPutCases,
  ...conditionalGetCases,
  ...closedStoreCases,
  ...bufferOwnershipCases,
];

/**
 * The ObjectStore contract (object-store.ts), run against every store the same way
 * (abstract-level's shared suite): each case gets its own fresh store. Cases skip only by the
 * store's own `supports` manifest, and say why.
 */
export function runBackendConformance(options: BackendConformanceOptions): void {
  const { test, name, factory } = options;
  for (const backendCase of BACKEND_CASES) {
    test(`${name}: ${backendCase.name}`, async (t) => {
      const store = await factory();
      await store.open();
      try {
        await backendCase.run(store, t);
      } finally {
        await store.close();
      }
    });
  }
}
