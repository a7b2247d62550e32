import { test } from 'node:test';
import assert from 'node:assert/strict';
import { foldBatch } from '../../../sink/src/fold/fold-batch.ts';
import type { TableEvent } from '../../../sink/src/decode/table-event.ts';

const ev = (op: TableEvent['op'], id: number, lsn: number, seq: number, row: Record<string, unknown> | null, unchanged: string[] = []): TableEvent => ({
  topic: 't', partition: 0, offset: '0', raw: { key: null, value: null }, key: op === 't' ? null : { id }, op, row: row ? { id, ...row } : op === 't' ? null : { id },
  unchanged, commitLsn: BigInt(lsn), seq: BigInt(seq), sourceTsMs: 0n, schema: 's', table: 't', columns: [], keyFields: ['id'],
});

test('one row per key, the last by (commit LSN, order in transaction) wins, whatever the arrival order', () => {
  const { rows } = foldBatch([ev('u', 1, 20, 1, { v: 'c' }), ev('c', 1, 10, 0, { v: 'a' }), ev('u', 1, 20, 0, { v: 'b' }), ev('c', 2, 15, 0, { v: 'x' })]);
  assert.equal(rows.length, 2);
  const r1 = rows.find((r) => r.values.id === 1)!;
  assert.equal(r1.values.v, 'c');
  assert.equal(r1.commitLsn, 20n);
  assert.equal(r1.seq, 1n);
});

test('an unchanged TOAST column takes its value from an earlier event of the batch, else stays unchanged', () => {
  const carried = foldBatch([ev('c', 1, 10, 0, { big: 'B', v: 1 }), ev('u', 1, 11, 0, { big: null, v: 2 }, ['big'])]).rows[0]!;
  assert.equal(carried.values.big, 'B');
  assert.equal(carried.unchanged.size, 0);
  const kept = foldBatch([ev('u', 1, 11, 0, { big: null, v: 2 }, ['big']), ev('u', 1, 12, 0, { big: null, v: 3 }, ['big'])]).rows[0]!;
  assert.deepEqual([...kept.unchanged], ['big']);
  assert.equal(kept.values.v, 3);
});

test('a delete wins over earlier events; a later insert of the key wins over the delete', () => {
  assert.equal(foldBatch([ev('c', 1, 10, 0, { v: 1 }), ev('d', 1, 11, 0, null)]).rows[0]!.op, 'delete');
  const again = foldBatch([ev('d', 1, 11, 0, null), ev('c', 1, 12, 0, { v: 9 })]).rows[0]!;
  assert.equal(again.op, 'upsert');
  assert.equal(again.values.v, 9);
});

test('a truncate clears the keys before it and is reported with its position', () => {
  const { rows, truncateAt } = foldBatch([ev('c', 1, 10, 0, { v: 1 }), ev('t', 0, 11, 0, null), ev('c', 2, 12, 0, { v: 2 })]);
  assert.deepEqual(rows.map((r) => r.values.id), [2]);
  assert.deepEqual(truncateAt, { commitLsn: 11n, seq: 0n });
});

test('a scoped truncate drops the older rows of the batch it selects, keeps the others and the later ones', () => {
  const scope = { column: 'trace', in: ['T1'] };
  const { rows, scoped, truncateAt } = foldBatch([
    ev('c', 1, 10, 0, { trace: 'T1' }), ev('c', 2, 10, 1, { trace: 'T2' }),
    { ...ev('t', 0, 20, 0, null), scope }, ev('c', 3, 30, 0, { trace: 'T1' }),
  ]);
  assert.deepEqual(rows.map((r) => r.values.id).sort(), [2, 3]);
  assert.deepEqual(scoped, [{ commitLsn: 20n, seq: 0n, scope }]);
  assert.equal(truncateAt, null);
});
