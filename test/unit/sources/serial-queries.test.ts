import { test } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import { serialQueries } from '../../../sources/postgres/serial-queries.ts';

test('queries on a shared connection run one after another, a failed one does not stop the next', async () => {
  let running = 0;
  let most = 0;
  const order: string[] = [];
  const fake = {
    async query(text: string) {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      order.push(text);
      if (text === 'bad') throw new Error('bad');
      return { rows: [text] };
    },
  } as unknown as pg.Client;
  const c = serialQueries(fake);
  const results = await Promise.allSettled(['a', 'bad', 'b', 'c'].map((q) => c.query(q)));
  assert.equal(most, 1, 'never two at once');
  assert.deepEqual(order, ['a', 'bad', 'b', 'c']);
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
});
