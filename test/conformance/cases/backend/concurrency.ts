import assert from 'node:assert/strict';
import { randomBody, type BackendCase } from './backend-case.js';

export const concurrencyCases: BackendCase[] = [
  {
    name: '64 parallel puts of different keys, then parallel gets, all match',
    async run(store) {
      const objects = Array.from({ length: 64 }, (_, i) => ({ key: `par/${i.toString(16).padStart(8, '0')}`, body: randomBody(4096) }));
      await Promise.all(objects.map(({ key, body }) => store.put(key, body)));
      const got = await Promise.all(objects.map(({ key }) => store.get(key)));
      got.forEach((object, i) => {
        assert.ok(object, `${objects[i]!.key} reads back`);
        assert.ok(object.body.equals(objects[i]!.body), `${objects[i]!.key} has its own bytes`);
      });
    },
  },
];
