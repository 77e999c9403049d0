import { assertRejectsWithCode, collect, type BackendCase } from './backend-case.js';

export const closedStoreCases: BackendCase[] = [
  {
    name: 'after close() every operation rejects with S3B_STORE_CLOSED',
    async run(store) {
      await store.put('closed/obj', Buffer.from('x'));
      await store.close();
      await assertRejectsWithCode(store.open(), 'S3B_STORE_CLOSED', 'open');
      await assertRejectsWithCode(store.get('closed/obj'), 'S3B_STORE_CLOSED', 'get');
      await assertRejectsWithCode(store.head('closed/obj'), 'S3B_STORE_CLOSED', 'head');
      await assertRejectsWithCode(store.put('closed/obj', Buffer.from('y')), 'S3B_STORE_CLOSED', 'put');
      await assertRejectsWithCode(store.delete('closed/obj'), 'S3B_STORE_CLOSED', 'delete');
      await assertRejectsWithCode(collect(store.list()), 'S3B_STORE_CLOSED', 'list');
      // close() twice is harmless.
      await store.close();
    },
  },
];
