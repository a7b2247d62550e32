// Multi-megabyte values on the real stack with the defaults a new user gets: values up to 30 MB and a ~63 MB
// row travel Postgres → connector → Kafka → sink → Delta unchanged (length and SHA-256 of every value compared
// with Postgres); a value past the ceiling stops the connector naming table, key and column, with nothing
// of it acknowledged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startConnector } from '../../support/connector.ts';
import { pipelineEnv } from '../../support/pipeline.ts';
import { sinkConfig, startSink } from '../../support/sink.ts';
import { TracelakeError } from '../../../schemas/src/errors.ts';
import { readRawValues, readTopic } from '../../support/kafka.ts';
import { sleep } from '../../support/wait.ts';

const MB = 1_000_000;

/** About `bytes` of the text an LLM trace carries: quotes, backslashes, ${…}, emoji, RTL marks, JSON in JSON. */
function longText(bytes: number, seed: number): string {
  const words = ["it's", '"quoted"', 'back\\slash', '${interp}', 'emoji😀', 'rtl\u200f', '{"json":"in \\"json\\""}', 'token', 'context', 'the'];
  const parts: string[] = [];
  for (let i = 0, size = 0; size < bytes - 40; i++) {
    const w = `${words[(i * 7 + seed) % words.length]}${(i * 31 + seed) % 9973} `;
    parts.push(w);
    size += Buffer.byteLength(w);
  }
  return parts.join('');
}

/** An image data URL of about `bytes` (a photo's bytes are incompressible, as random ones). */
const imageUrl = (bytes: number) => `data:image/jpeg;base64,${randomBytes(Math.floor(((bytes - 23) * 3) / 4)).toString('base64')}`;

const lsnValue = (s: string) => {
  const [hi, lo] = s.split('/');
  return (BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`);
};

test('values up to 30 MB and a 63 MB row land in Delta unchanged with the default configuration', { timeout: 10 * 60_000 }, async (t) => {
  const { fx, wh, stops } = await pipelineEnv(t, 'large');
  await fx.db.query(`CREATE TABLE ${fx.schema}.spans (id int PRIMARY KEY, image text, prompt text, attributes jsonb, output text)`);
  const { connector, done: cDone } = await startConnector(fx.config({ tables: [`${fx.schema}.spans`] }));
  const { sink, done: sDone } = await startSink(sinkConfig(fx.name));
  stops.push(async () => { await connector.stop(); await cDone; }, async () => { await sink.stop(); await sDone; });

  // a 16 MB image, a 30 MB prompt (past the 20,000,000 characters the engine's JSON reader takes in one string:
  // it travels in parts), ~8.7 MB of JSON attributes once jsonb escapes them, 8 MB of output: a row of ~63 MB
  await fx.db.query(`INSERT INTO ${fx.schema}.spans VALUES (1, $1, $2, jsonb_build_object('input.value', $3::text), $4)`,
    [imageUrl(16 * MB), longText(30 * MB, 1), longText(8 * MB, 2), longText(8 * MB, 3)]);
  await fx.db.query(`INSERT INTO ${fx.schema}.spans VALUES (2, 'small', 'small', '{}', 'small')`);
  // an update that leaves the large TOASTed values untouched: they must stay in Delta as they were
  await fx.db.query(`UPDATE ${fx.schema}.spans SET output = $1 WHERE id = 1`, [longText(MB, 4)]);

  const cols = ['image', 'prompt', 'attributes', 'output'];
  // (the row as it is now, after the update: 7 MB less than it was inserted with)
  const sizes = (await fx.db.query<Record<string, string>>(`SELECT ${cols.map((c) => `octet_length(${c}::text) AS ${c}`).join(', ')} FROM ${fx.schema}.spans WHERE id = 1`)).rows[0]!;
  assert.ok(Number(sizes.prompt) > 29 * MB && cols.reduce((n, c) => n + Number(sizes[c]), 0) > 54 * MB, JSON.stringify(sizes));
  const pgSide = (await fx.db.query<Record<string, string>>(`SELECT id::text, ${cols.map((c) =>
    `octet_length(${c}::text)::text AS ${c}_len, encode(sha256(convert_to(${c}::text, 'UTF8')), 'hex') AS ${c}_sha`).join(', ')}
    FROM ${fx.schema}.spans ORDER BY id`)).rows;
  const deltaSide = async () => (await wh.query<Record<string, string>>(`SELECT CAST(id AS STRING) AS id, ${cols.map((c) =>
    `CAST(octet_length(${c}) AS STRING) AS ${c}_len, sha2(${c}, 256) AS ${c}_sha`).join(', ')} FROM ${fx.name}.spans ORDER BY id`)).map((r) => ({ ...r }));
  let actual: Record<string, string>[] = [];
  for (let i = 0; i < 300; i++) {
    actual = await deltaSide().catch(() => []);
    if (JSON.stringify(actual) === JSON.stringify(pgSide)) break;
    if (connector.status === 'FAILED') await cDone; // throws the connector's error
    if (sink.status === 'FAILED') await sDone;
    await sleep(1000);
  }
  assert.deepEqual(actual, pgSide, 'every value has the length and hash it has in Postgres');
});

test('a value past limits.maxColumnBytes (32 MiB) stops the connector naming table, key and column; nothing of it is acknowledged', async (t) => {
  const { fx, stops } = await pipelineEnv(t, 'toolarge');
  await fx.db.query(`CREATE TABLE ${fx.schema}.spans (id int PRIMARY KEY, prompt text)`);
  const c = await startConnector(fx.config({ tables: [`${fx.schema}.spans`] }));
  stops.push(async () => { await c.connector.stop(); await c.done.catch(() => undefined); });
  const slot = async () => lsnValue((await fx.db.query<{ lsn: string }>('SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1', [fx.name])).rows[0]!.lsn);
  // a position inside the row's transaction: confirming the transaction would move the slot past it
  await fx.db.query('BEGIN');
  await fx.db.query(`INSERT INTO ${fx.schema}.spans VALUES (7, repeat('x', 33 * 1024 * 1024))`);
  const inside = lsnValue((await fx.db.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn')).rows[0]!.lsn);
  await fx.db.query('COMMIT');
  await assert.rejects(c.done, (e: unknown) => {
    assert.ok(e instanceof TracelakeError, String(e));
    assert.equal(e.code, 'ROW_TOO_LARGE');
    assert.ok(e.message.startsWith(`${fx.schema}.spans row id=7: column prompt holds 34603008 bytes, past limits.maxColumnBytes`), e.message);
    return true;
  });
  assert.ok(await slot() < inside, 'the slot was not confirmed past the row');
});

test('limits.tables oversize dead-letter: the row goes to the dead-letter topic with its key, position and sizes; the rows after it flow', async (t) => {
  const { fx, stops } = await pipelineEnv(t, 'dlq');
  await fx.db.query(`CREATE TABLE ${fx.schema}.spans (id int PRIMARY KEY, prompt text)`);
  const c = await startConnector({ ...fx.config({ tables: [`${fx.schema}.spans`] }), limits: { tables: { [`${fx.schema}.spans`]: { oversize: 'dead-letter' } } } });
  stops.push(async () => { await c.connector.stop(); await c.done; });
  await fx.db.query(`INSERT INTO ${fx.schema}.spans VALUES (7, repeat('x', 33 * 1024 * 1024))`);
  await fx.db.query(`INSERT INTO ${fx.schema}.spans VALUES (8, 'after it')`);
  const changes = await readTopic(`${fx.name}.${fx.schema}.spans`, (m) => m.some((x) => x.key?.id === 8));
  assert.deepEqual(changes.map((m) => m.key?.id), [8], 'the oversize row has no change event; the next row does');
  const [raw] = await readRawValues(`${fx.name}.dead-letter`, 1);
  assert.ok(raw, 'a dead-letter record');
  const record = JSON.parse(raw.toString()) as { table: string; key: string; op: string; position: { commit_lsn: string; lsn: string }; error: { code: string }; columns: Record<string, { bytes: number; sha256: string; value?: string }> };
  const { rows: [pgSide] } = await fx.db.query<{ sha: string }>(`SELECT encode(sha256(convert_to(prompt, 'UTF8')), 'hex') AS sha FROM ${fx.schema}.spans WHERE id = 7`);
  assert.deepEqual([record.table, record.key, record.op, record.error.code], [`${fx.schema}.spans`, 'id=7', 'c', 'ROW_TOO_LARGE']);
  assert.deepEqual(record.columns.prompt, { bytes: 33 * 1024 * 1024, sha256: pgSide!.sha });
  assert.equal(record.columns.id!.value, '7');
  assert.ok(BigInt(record.position.commit_lsn) > 0n && BigInt(record.position.lsn) > 0n, JSON.stringify(record.position));
  assert.equal(c.connector.status, 'RUNNING');
});
