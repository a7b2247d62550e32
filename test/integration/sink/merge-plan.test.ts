// The sink's SQL (DDL + MERGE plans) on the real Delta engine through @databricks/sql: idempotent replays,
// unchanged-TOAST columns kept, hard and soft deletes without resurrection, typed values byte-identical.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectTestWarehouse } from '../../support/warehouse.ts';
import { uniqueName } from '../../support/stack.ts';
import { deltaType } from '../../../sink/src/delta/column-types.ts';
import { planMerges, planTombstones, type PlanColumn, type TablePlanInput, type DeleteMode } from '../../../sink/src/plan/merge-plan.ts';
import { createTable, createTombstones } from '../../../sink/src/plan/ddl.ts';
import { foldBatch } from '../../../sink/src/fold/fold-batch.ts';
import type { TableEvent } from '../../../sink/src/decode/table-event.ts';
import { bigintToTwosComplement } from '../../../schemas/src/pg-types.ts';
import { sqlIdent } from '../../../sink/src/sql/literals.ts';

const avroCols: Array<[string, unknown, boolean]> = [
  ['id', 'long', true],
  ['name', 'string', false],
  ['payload', 'string', false],
  ['start_time', { type: 'long', logicalType: 'timestamp-micros' }, false],
  ['cost', { type: 'bytes', logicalType: 'decimal', precision: 20, scale: 6 }, false],
  ['day', { type: 'int', logicalType: 'date' }, false],
  ['ratio', 'double', false],
  ['ok', 'boolean', false],
  ['blob', 'bytes', false],
  ['tags', { type: 'array', items: ['null', 'string'] }, false],
];
const columns: PlanColumn[] = avroCols.map(([name, avro, isKey]) => ({ field: name, name, isKey, type: deltaType(avro as never, name) }));

let pos = 0n;
function ev(op: TableEvent['op'], id: bigint, row: Record<string, unknown> | null, unchanged: string[] = []): TableEvent {
  pos++;
  return {
    topic: 't', partition: 0, offset: String(pos), raw: { key: null, value: null }, key: { id }, op, row: row ? { id, ...row } : { id }, unchanged,
    commitLsn: 1000n + pos, seq: 0n, sourceTsMs: 1_700_000_000_000n, schema: 's', table: 't', columns: [], keyFields: ['id'],
  };
}

const hostile = "it's \\ \"q\" '; DROP TABLE x; -- \u0000 ☃ 😀 " + 'x'.repeat(2000);

async function run(mode: DeleteMode) {
  const wh = await connectTestWarehouse();
  const name = uniqueName(`merge_${mode}`);
  const plan: TablePlanInput = {
    target: `smoke.${sqlIdent(name)}`, tombstones: `smoke.${sqlIdent(name + '__tombstones')}`, staged: `smoke.${sqlIdent(name + '__staged')}`,
    columns, deleteMode: mode, maxStatementBytes: 6000, maxStatementRows: 2,
  };
  const layout = { ...plan, clusterBy: [], properties: {} };
  await wh.query('CREATE SCHEMA IF NOT EXISTS smoke');
  await wh.query(createTable(layout, columns));
  if (mode === 'hard') await wh.query(createTombstones(layout, columns));
  const apply = async (events: TableEvent[]) => {
    const folded = foldBatch(events).rows;
    for (const sql of [...planTombstones(plan, folded), ...planMerges(plan, folded)]) await wh.query(sql);
  };
  const read = () => wh.query<Record<string, unknown>>(
    `SELECT id, name, payload, CAST(start_time AS STRING) AS st, CAST(cost AS STRING) AS cost, CAST(day AS STRING) AS day, ratio, ok,
            base64(blob) AS blob, to_json(tags) AS tags, _deleted, _commit_lsn FROM ${plan.target} ORDER BY id`);

  const full = {
    name: 'llm', payload: hostile, start_time: 1709294400123456n, cost: bigintToTwosComplement(-1234567n), day: 19782,
    ratio: 0.1, ok: true, blob: Buffer.from([0, 1, 255]), tags: ['a', null, "b'c"],
  };
  // batch 1: inserts (one key updated twice in the batch, TOAST-unchanged in the last event)
  const batch1 = [
    ev('c', 1n, full),
    ev('c', 2n, { ...full, name: 'chain', payload: 'small' }),
    ev('u', 1n, { ...full, name: 'llm-v2', payload: null }, ['payload']),
    ev('c', 4n, { ...full, ratio: Number.NaN, tags: [] }),
    ev('c', 5n, { ...full, ratio: -Infinity, tags: null }),
    ev('c', 3n, { name: 'to delete', payload: null, start_time: null, cost: null, day: null, ratio: null, ok: null, blob: null, tags: null }),
  ];
  await apply(batch1);
  // batch 2: TOAST-unchanged update across batches, delete of 3
  const batch2 = [ev('u', 2n, { ...full, name: 'chain-v2', payload: null }, ['payload']), ev('d', 3n, null)];
  await apply(batch2);
  const after2 = await read();
  // replays of both batches change nothing — including the older insert of the deleted key 3
  await apply(batch1);
  await apply(batch2);
  assert.deepEqual(await read(), after2, 'replaying batches is a no-op');
  return { after2, wh, plan };
}

for (const mode of ['hard', 'soft'] as const) {
  test(`MERGE plans on Delta (${mode} deletes): fold, TOAST, replay, no resurrection, exact values`, async (t) => {
    const { after2, wh, plan } = await run(mode);
    t.after(async () => {
      await wh.query(`DROP TABLE IF EXISTS ${plan.target}`);
      await wh.query(`DROP TABLE IF EXISTS ${plan.tombstones}`);
      await wh.close();
    });
    const live = after2.filter((r) => r._deleted !== true);
    assert.deepEqual(live.map((r) => Number(r.id)), [1, 2, 4, 5]);
    const [r1, r2, r4, r5] = live as [Record<string, unknown>, Record<string, unknown>, Record<string, unknown>, Record<string, unknown>];
    assert.equal(r1.name, 'llm-v2');
    assert.ok(r1.payload === hostile, 'payload carried from the earlier event of the same batch, byte-identical');
    assert.equal(r1.st, '2024-03-01 12:00:00.123456');
    assert.equal(r1.cost, '-1.234567');
    assert.equal(r1.day, '2024-02-29');
    assert.equal(r1.ratio, 0.1);
    assert.ok(Number.isNaN(r4.ratio), String(r4.ratio));
    assert.equal(r4.tags, '[]');
    assert.equal(r5.ratio, -Infinity);
    assert.equal(r5.tags, null);
    assert.equal(r1.ok, true);
    assert.equal(r1.blob, Buffer.from([0, 1, 255]).toString('base64'));
    assert.deepEqual(JSON.parse(String(r1.tags)), ['a', null, "b'c"]);
    assert.equal(r2.name, 'chain-v2');
    assert.equal(r2.payload, 'small', 'unchanged TOAST column keeps the stored value across batches');
    if (mode === 'hard') assert.equal(after2.length, 4, 'deleted row is gone');
    else {
      const gone = after2.find((r) => Number(r.id) === 3);
      assert.equal(gone?._deleted, true, 'soft delete keeps the row, flagged');
    }
  });
}

test('a row larger than maxStatementBytes is staged in parts and lands byte-identical; a part inserted twice and a replay change nothing', async (t) => {
  const wh = await connectTestWarehouse();
  const name = uniqueName('merge_staged');
  const plan: TablePlanInput = {
    target: `smoke.${sqlIdent(name)}`, tombstones: `smoke.${sqlIdent(name + '__tombstones')}`, staged: `smoke.${sqlIdent(name + '__staged')}`,
    columns, deleteMode: 'hard', maxStatementBytes: 4096, maxStatementRows: 100,
  };
  t.after(async () => {
    for (const table of [plan.target, plan.tombstones, plan.staged]) await wh.query(`DROP TABLE IF EXISTS ${table}`);
    await wh.close();
  });
  await wh.query('CREATE SCHEMA IF NOT EXISTS smoke');
  await wh.query(createTable({ ...plan, clusterBy: [], properties: {} }, columns));
  await wh.query(createTombstones({ ...plan, clusterBy: [], properties: {} }, columns));
  // text the engine treats specially, multi-byte characters and backslashes wherever the parts are cut
  const unit = "${x} \\ \\u0041 'q' \"d\" ☃ 😀 \u200f عربى \u0001 {\"k\":\"v\\\"\"} ";
  const large = unit.repeat(Math.ceil(24_000 / unit.length));
  const row = { name: 'large', payload: large, start_time: null, cost: null, day: null, ratio: null, ok: null, blob: Buffer.alloc(5000, 0xff), tags: [large.slice(0, 3000)] };
  const events = [ev('c', 1n, row), ev('c', 2n, { ...row, name: 'small', payload: 'small', blob: null, tags: null })];
  const statements = [...planMerges(plan, foldBatch(events).rows)];
  const inserts = statements.filter((s) => s.startsWith(`INSERT INTO ${plan.staged}`));
  assert.ok(inserts.length > 5, `the large row is staged in parts (${inserts.length})`);
  for (const s of statements) assert.ok(Buffer.byteLength(s) <= plan.maxStatementBytes, `a statement of ${Buffer.byteLength(s)} bytes`);
  // a retried INSERT whose first try had committed: the part is there twice
  for (const s of [...statements.slice(0, 3), inserts[1]!, ...statements.slice(3)]) await wh.query(s);
  const read = () => wh.query<Record<string, unknown>>(`SELECT id, name, payload, hex(blob) AS blob, to_json(tags) AS tags FROM ${plan.target} ORDER BY id`);
  const rows = await read();
  assert.deepEqual(rows.map((r) => r.name), ['large', 'small']);
  assert.ok(rows[0]!.payload === large, `payload byte-identical (${String(rows[0]!.payload).length} of ${large.length} chars)`);
  assert.equal(rows[0]!.blob, Buffer.alloc(5000, 0xff).toString('hex').toUpperCase());
  assert.deepEqual(JSON.parse(String(rows[0]!.tags)), [large.slice(0, 3000)]);
  const [{ n }] = await wh.query<{ n: number }>(`SELECT count(*) AS n FROM ${plan.staged}`) as [{ n: number }];
  assert.equal(Number(n), 0, 'the parts are deleted after the MERGE');
  for (const s of planMerges(plan, foldBatch(events).rows)) await wh.query(s);
  assert.deepEqual(await read(), rows, 'a replay is a no-op');
});
