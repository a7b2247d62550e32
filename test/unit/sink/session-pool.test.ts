import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PRIORITY, SessionPool, withStatementPriority } from '../../../sink/src/warehouse/session-pool.ts';

test('sessions are opened up to the limit, then statements wait: views\' tables first, then in arrival order', async () => {
  let opened = 0;
  const pool = new SessionPool<string>('s0', async () => `s${++opened}`, 2);
  const a = await pool.take();
  const b = await pool.take(); // a second session is opened
  assert.deepEqual([a, b].sort(), ['s0', 's1']);
  const order: string[] = [];
  const wait = (name: string, p: number) => withStatementPriority(p, () => pool.take().then((s) => {
    order.push(name);
    return s;
  }));
  const waiting = [wait('background', PRIORITY.background), wait('table-1', PRIORITY.tables), wait('view', PRIORITY.views), wait('table-2', PRIORITY.tables)];
  await new Promise((r) => setImmediate(r));
  assert.equal(opened, 1, 'no session beyond the limit');
  assert.deepEqual(order, []);
  for (let i = 0; i < 4; i++) {
    pool.give(i % 2 === 0 ? a : b);
    await new Promise((r) => setImmediate(r));
  }
  await Promise.all(waiting);
  assert.deepEqual(order, ['view', 'table-1', 'table-2', 'background']);
});

test('a session the warehouse refuses to open leaves the statement waiting for one of those open', async () => {
  const pool = new SessionPool<string>('s0', async () => { throw new Error('too many sessions'); }, 3);
  const first = await pool.take();
  const second = pool.take();
  await new Promise((r) => setImmediate(r));
  pool.give(first);
  assert.equal(await second, 's0');
  assert.deepEqual(pool.sessions(), ['s0']);
});
