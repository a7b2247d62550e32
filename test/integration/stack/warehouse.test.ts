// Smoke: Delta DDL/DML through @databricks/sql (the sink's client) against the local Delta SQL engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectTestWarehouse, sqlString } from '../../support/warehouse.ts';
import { sqlIdent } from '../../../sink/src/sql/literals.ts';
import { uniqueName } from '../../support/stack.ts';

const hostile = [
  "it's a \"quote\"",
  'back\\slash \\n not-a-newline \\u0041',
  "'; DROP TABLE x; --",
  'NUL\u0000inside, tab\tnewline\ncr\r',
  'unicode ☃ ü 中文 and emoji 😀👩‍💻',
];

test('CREATE TABLE USING DELTA, MERGE INTO, ALTER TABLE ADD COLUMNS, typed SELECT in column order', async (t) => {
  const wh = await connectTestWarehouse();
  const table = `smoke.${sqlIdent(uniqueName('wh'))}`;
  t.after(async () => {
    await wh.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
    await wh.close();
  });
  await wh.query('CREATE SCHEMA IF NOT EXISTS smoke');
  await wh.query(`CREATE TABLE ${table} (id BIGINT, ts TIMESTAMP, amount DECIMAL(38,9), body STRING) USING DELTA`);
  const [format] = await wh.query<{ format: string }>(`DESCRIBE DETAIL ${table}`);
  assert.equal(format?.format, 'delta');

  const merge = (rows: string[], columns: string[]) =>
    wh.query(`MERGE INTO ${table} t USING (SELECT * FROM VALUES ${rows.join(', ')} AS s(${columns.join(', ')})) s
      ON t.id = s.id WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *`);
  const row = (id: number, body: string, extra = '') =>
    `(${id}, TIMESTAMP'2024-01-02 03:04:05.123456', CAST('12345678901234567890.123456789' AS DECIMAL(38,9)), ${sqlString(body)}${extra})`;

  await merge(hostile.map((b, i) => row(i + 1, 'placeholder ' + b)), ['id', 'ts', 'amount', 'body']);
  await merge(hostile.map((b, i) => row(i + 1, b)), ['id', 'ts', 'amount', 'body']); // matched → update

  await wh.query(`ALTER TABLE ${table} ADD COLUMNS (model STRING)`);
  await merge([row(hostile.length + 1, 'after evolution', `, ${sqlString('gpt-4o')}`)], ['id', 'ts', 'amount', 'body', 'model']);

  const rows = await wh.query<Record<string, unknown>>(
    `SELECT id, ts, CAST(amount AS STRING) AS amount, body, model FROM ${table} ORDER BY id`);
  assert.equal(rows.length, hostile.length + 1);
  assert.deepEqual(Object.keys(rows[0]!), ['id', 'ts', 'amount', 'body', 'model']);
  hostile.forEach((body, i) => {
    assert.equal(rows[i]!.body, body, `row ${i + 1} body must land byte-identical`);
    assert.equal(rows[i]!.model, null);
  });
  const last = rows.at(-1)!;
  assert.equal(Number(last.id), hostile.length + 1);
  assert.equal(String(last.ts), '2024-01-02 03:04:05.123456');
  assert.equal(last.amount, '12345678901234567890.123456789');
  assert.equal(last.model, 'gpt-4o');

  const described = await wh.query<{ col_name: string; data_type: string }>(`DESCRIBE TABLE ${table}`);
  assert.deepEqual(described.slice(0, 5).map((d) => [d.col_name, d.data_type]), [
    ['id', 'bigint'], ['ts', 'timestamp'], ['amount', 'decimal(38,9)'], ['body', 'string'], ['model', 'string'],
  ]);
});

test('a wrong access token is refused', async () => {
  await assert.rejects(connectTestWarehouse({ token: 'dapi-wrong' }).then((w) => w.close()));
});
