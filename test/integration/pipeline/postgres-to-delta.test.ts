// End to end on the real stack: Postgres → connector → Kafka (Avro) → sink → Delta, compared row for row.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startConnector } from '../../support/connector.ts';
import { pipelineEnv } from '../../support/pipeline.ts';
import { sinkConfig, startSink } from '../../support/sink.ts';
import { sleep } from '../../support/wait.ts';
import { HOSTILE_TEXTS } from '../../support/hostile-texts.ts';
import { storedCodecs } from '../../support/kafka.ts';

const hostile = HOSTILE_TEXTS;

test('spans flow from Postgres into Delta: snapshot, inserts, TOAST-untouched updates, deletes — Delta equals Postgres', async (t) => {
  const { fx, wh, stops } = await pipelineEnv(t, 'e2e');
  await fx.db.query(`CREATE TABLE ${fx.schema}.spans (
    id bigint PRIMARY KEY, trace_id text NOT NULL, name text, attributes jsonb, start_time timestamptz, cost numeric(20,10), tokens int8)`);
  const big = JSON.stringify({ 'input.value': 'p'.repeat(100), blob: Array.from({ length: 2000 }, (_, i) => (i * 7919).toString(36)).join('') });
  await fx.db.query(`INSERT INTO ${fx.schema}.spans SELECT g, 'trace-' || (g % 3), 'snap ' || g, $1::jsonb, '2024-03-01 12:00:00.000001+00'::timestamptz + g * interval '1 microsecond', g / 7.0, g FROM generate_series(1, 20) g`, [big]);

  const { connector, done: cDone } = await startConnector(fx.config({ tables: [`${fx.schema}.spans`] }));
  const { sink, done: sDone } = await startSink(sinkConfig(fx.name));
  stops.push(async () => { await connector.stop(); await cDone; }, async () => { await sink.stop(); await sDone; });

  for (const [i, s] of hostile.entries()) {
    // the text as a column, as a JSON value and as a JSON key
    await fx.db.query(`INSERT INTO ${fx.schema}.spans VALUES ($1, 'trace-x', $2, jsonb_build_object($2::text, $2::text, 'k', 1), now(), 1.25, NULL)`, [100 + i, s]);
  }
  for (let round = 0; round < 5; round++) {
    await fx.db.query(`UPDATE ${fx.schema}.spans SET tokens = tokens + 1 WHERE id <= 5`); // attributes untouched (TOAST)
  }
  await fx.db.query(`DELETE FROM ${fx.schema}.spans WHERE id IN (6, 7)`);
  await fx.db.query(`BEGIN; UPDATE ${fx.schema}.spans SET name = 'renamed' WHERE id = 8; DELETE FROM ${fx.schema}.spans WHERE id = 9; COMMIT`);

  const pgRows = async () => (await fx.db.query<Record<string, unknown>>(
    `SELECT id::text, trace_id, name, attributes::text AS attributes, to_char(start_time AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS start_time,
            cost::text AS cost, tokens::text FROM ${fx.schema}.spans ORDER BY id`)).rows;
  const deltaRows = async () => (await wh.query<Record<string, unknown>>(
    `SELECT CAST(id AS STRING) AS id, trace_id, name, attributes, date_format(start_time, 'yyyy-MM-dd HH:mm:ss.SSSSSS') AS start_time,
            CAST(cost AS STRING) AS cost, CAST(tokens AS STRING) AS tokens FROM ${fx.name}.spans ORDER BY id`)).map((r) => ({ ...r }));

  const expected = await pgRows();
  let actual: Record<string, unknown>[] = [];
  for (let i = 0; i < 60; i++) {
    actual = await deltaRows().catch(() => []);
    if (JSON.stringify(actual) === JSON.stringify(expected)) break;
    await sleep(1000);
  }
  assert.equal(actual.length, expected.length, 'row count');
  for (let i = 0; i < expected.length; i++) {
    assert.deepEqual(actual[i], expected[i], `row ${String(expected[i]!.id)} matches Postgres`);
  }
  assert.equal(sink.status, 'RUNNING');
  assert.ok(sink.stats.batches > 0);
});

test('TRUNCATE reaches Delta: older rows go, rows written after it stay', async (t) => {
  const { fx, wh, stops } = await pipelineEnv(t, 'trunc');
  await fx.db.query(`CREATE TABLE ${fx.schema}.t (id int PRIMARY KEY)`);
  await fx.db.query(`INSERT INTO ${fx.schema}.t SELECT generate_series(1, 10)`);
  const c = await startConnector(fx.config({ tables: [`${fx.schema}.t`] }));
  stops.push(async () => { await c.connector.stop(); await c.done; });
  const s = await startSink(sinkConfig(fx.name));
  stops.push(async () => { await s.sink.stop(); await s.done; });
  const ids = async () => (await wh.query<{ id: number }>(`SELECT id FROM ${fx.name}.t ORDER BY id`).catch(() => [])).map((r) => Number(r.id));
  for (let i = 0; i < 60 && (await ids()).length !== 10; i++) await sleep(1000);
  await fx.db.query(`TRUNCATE ${fx.schema}.t`);
  await fx.db.query(`INSERT INTO ${fx.schema}.t VALUES (42)`);
  let now: number[] = [];
  for (let i = 0; i < 60; i++) {
    now = await ids();
    if (now.length === 1) break;
    await sleep(1000);
  }
  assert.deepEqual(now, [42]);
});

test('key columns holding text the engine rewrites before parsing (${…}, quotes, comments): upserts, updates and deletes land exactly', async (t) => {
  const { fx, wh, stops } = await pipelineEnv(t, 'keys');
  await fx.db.query(`CREATE TABLE ${fx.schema}.keyed (k text PRIMARY KEY, v text)`);
  const c = await startConnector(fx.config({ tables: [`${fx.schema}.keyed`] }));
  stops.push(async () => { await c.connector.stop(); await c.done; });
  const s = await startSink(sinkConfig(fx.name));
  stops.push(async () => { await s.sink.stop(); await s.done; });
  for (const [i, k] of hostile.entries()) await fx.db.query(`INSERT INTO ${fx.schema}.keyed VALUES ($1, $2)`, [k, `v${i} ${k}`]);
  await fx.db.query(`UPDATE ${fx.schema}.keyed SET v = 'updated ' || k WHERE k LIKE '%\${%'`);
  await fx.db.query(`DELETE FROM ${fx.schema}.keyed WHERE k = $1`, ['a${hivevar:y}b']); // a hard delete: the key goes through the tombstone table
  const expected = (await fx.db.query<{ k: string; v: string }>(`SELECT k, v FROM ${fx.schema}.keyed ORDER BY k COLLATE "C"`)).rows;
  let actual: Array<{ k: string; v: string }> = [];
  for (let i = 0; i < 60; i++) {
    actual = (await wh.query<{ k: string; v: string }>(`SELECT k, v FROM ${fx.name}.keyed`).catch(() => []))
      .map((r) => ({ k: r.k, v: r.v })).sort((a, b) => (Buffer.compare(Buffer.from(a.k), Buffer.from(b.k))));
    if (JSON.stringify(actual) === JSON.stringify(expected)) break;
    await sleep(1000);
  }
  assert.deepEqual(actual, expected);
  assert.ok(expected.some((r) => r.v.startsWith('updated ${')), 'updated rows are among them');
});

test('records compressed with lz4, snappy and gzip (the connector restarted with each) land in Delta unchanged', async (t) => {
  const { fx, wh, stops } = await pipelineEnv(t, 'codecs');
  await fx.db.query(`CREATE TABLE ${fx.schema}.c (id int PRIMARY KEY, body text)`);
  let id = 0;
  for (const compression of ['lz4', 'snappy', 'gzip'] as const) {
    const base = fx.config({ tables: [`${fx.schema}.c`] });
    const c = await startConnector({ ...base, kafka: { ...base.kafka, compression } });
    if (compression === 'lz4') { // the sink once the topic is there, reading records of each codec as they come
      const s = await startSink(sinkConfig(fx.name));
      stops.push(async () => { await s.sink.stop(); await s.done; });
    }
    // text that compresses (a long prompt) and text of every hostile kind
    for (const body of [`${compression} `.repeat(50_000), ...hostile]) await fx.db.query(`INSERT INTO ${fx.schema}.c VALUES ($1, $2)`, [++id, body]);
    const flushed = await fx.db.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
    for (let i = 0; i < 100 && c.connector.status === 'RUNNING'; i++) {
      const { rows } = await fx.db.query<{ ok: boolean }>('SELECT confirmed_flush_lsn >= $1::pg_lsn AS ok FROM pg_replication_slots WHERE slot_name = $2', [flushed.rows[0]!.lsn, fx.name]);
      if (rows[0]?.ok) break;
      await sleep(200);
    }
    await c.connector.stop();
    await c.done;
  }
  const expected = (await fx.db.query<{ id: string; len: string; sha: string }>(
    `SELECT id::text, length(body)::text AS len, encode(sha256(convert_to(body, 'UTF8')), 'hex') AS sha FROM ${fx.schema}.c ORDER BY id`)).rows;
  let actual: Array<Record<string, unknown>> = [];
  for (let i = 0; i < 60; i++) {
    actual = (await wh.query<Record<string, unknown>>(`SELECT CAST(id AS STRING) AS id, CAST(length(body) AS STRING) AS len, sha2(body, 256) AS sha FROM ${fx.name}.c ORDER BY id`).catch(() => []))
      .map((r) => ({ ...r }));
    if (JSON.stringify(actual) === JSON.stringify(expected)) break;
    await sleep(1000);
  }
  assert.deepEqual(actual, expected, 'every row of every codec, length and hash as in Postgres');
  assert.deepEqual([...storedCodecs(fx.topic('c'))].sort(), ['gzip', 'lz4', 'snappy'], 'the broker stored batches of each codec');
});
