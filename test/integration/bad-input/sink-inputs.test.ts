// The sink's part of the bad-input catalogue (docs/bad-input.md): each case stops with a clear error or is
// absorbed, and no consumed change is lost (offsets move only after the MERGE).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { produceRaw, readRawRecords, withAdmin } from '../../support/kafka.ts';
import { committedOffsets } from '../../../runtime/kafka-offsets.ts';
import { Sink } from '../../../sink/src/sink.ts';
import { parseSinkConfig } from '../../../sink/src/config.ts';
import { TracelakeError } from '../../../schemas/src/errors.ts';
import { startConnector, testLog } from '../../support/connector.ts';
import { sinkConfig, startSink } from '../../support/sink.ts';
import { pipelineEnv } from '../../support/pipeline.ts';
import { compareTable } from '../../support/compare.ts';
import { stack } from '../../support/stack.ts';
import { until } from '../../support/wait.ts';

test('bad input: a truncated Avro body is a poison record (stop, or dead-letter and go on)', async (t) => {
  const { fx, wh, stops } = await pipelineEnv(t, 'truncavro');
  await fx.db.query(`CREATE TABLE ${fx.schema}.t (id int PRIMARY KEY, v text)`);
  await fx.db.query(`INSERT INTO ${fx.schema}.t VALUES (1, 'a long enough value to cut')`);
  const c = await startConnector(fx.config({ tables: [`${fx.schema}.t`] }));
  stops.push(async () => { await c.connector.stop(); await c.done; });
  // take the real record and cut its body short: valid magic byte and schema id, broken Avro
  const [real] = await readRawRecords(fx.topic('t'), 1);
  await produceRaw([{ topic: fx.topic('t'), partition: real!.partition, key: real!.key, value: real!.value!.subarray(0, real!.value!.length - 12) }]);
  await fx.db.query(`INSERT INTO ${fx.schema}.t VALUES (2, 'after')`);

  const strict = new Sink(parseSinkConfig(sinkConfig(fx.name, { kafka: { brokers: stack().kafkaBrokers, groupId: `${fx.name}-strict`, topicPrefix: fx.name, topicRefreshMs: 1000 } })), testLog);
  await assert.rejects(strict.run(), (e: unknown) => e instanceof TracelakeError && e.code === 'POISON_RECORD' && /@1/.test(e.message) && /AVRO_DECODE_FAILED|does not decode/.test(`${e.message} ${String((e.cause as Error)?.message)}`));
  const tolerant = await startSink(sinkConfig(fx.name, { errors: { tolerance: 'all', deadLetterTopic: `${fx.name}-dlq` } }));
  stops.push(async () => { await tolerant.sink.stop(); await tolerant.done; });
  await until('the valid rows', async () => (await compareTable(fx.db, fx.schema, 't', wh, `${fx.name}.t`)).mismatches.length === 0);
  assert.equal(tolerant.sink.stats.deadLettered, 1);
});

test('bad input: a wrong warehouse token stops the sink naming the warehouse; no offset is committed', async (t) => {
  const { fx, stops } = await pipelineEnv(t, 'whauth');
  await fx.db.query(`CREATE TABLE ${fx.schema}.t (id int PRIMARY KEY)`);
  await fx.db.query(`INSERT INTO ${fx.schema}.t VALUES (1)`);
  const c = await startConnector(fx.config({ tables: [`${fx.schema}.t`] }));
  stops.push(async () => { await c.connector.stop(); await c.done; });
  const cfg = sinkConfig(fx.name);
  const sink = new Sink(parseSinkConfig({ ...cfg, warehouse: { ...cfg.warehouse, token: 'dapi-not-the-token' } }), testLog);
  await assert.rejects(sink.run(), (e: unknown) => {
    const text = `${(e as Error).message} ${(e as { remedy?: string }).remedy ?? ''}`;
    assert.match(text, /401|403|[Uu]nauthori[sz]ed|token|credential/, text);
    assert.doesNotMatch(text, /dapi-not-the-token/);
    return true;
  });
  assert.equal(sink.status, 'FAILED');
  const offsets = await withAdmin((admin) => committedOffsets(admin, cfg.kafka.groupId!, [fx.topic('t')]));
  assert.equal(offsets.get(fx.topic('t'))?.size ?? 0, 0, 'nothing committed');
});

test('bad input: a Delta table dropped by a user is created again and later changes land', async (t) => {
  const { fx, wh, stops } = await pipelineEnv(t, 'dropped');
  await fx.db.query(`CREATE TABLE ${fx.schema}.t (id int PRIMARY KEY, v text)`);
  await fx.db.query(`INSERT INTO ${fx.schema}.t VALUES (1, 'a')`);
  const c = await startConnector(fx.config({ tables: [`${fx.schema}.t`] }));
  stops.push(async () => { await c.connector.stop(); await c.done; });
  const s = await startSink(sinkConfig(fx.name));
  stops.push(async () => { await s.sink.stop(); await s.done; });
  await until('the first row', async () => (await compareTable(fx.db, fx.schema, 't', wh, `${fx.name}.t`)).mismatches.length === 0);
  await wh.query(`DROP TABLE ${fx.name}.t`);
  await fx.db.query(`INSERT INTO ${fx.schema}.t VALUES (2, 'b'); UPDATE ${fx.schema}.t SET v = 'a2' WHERE id = 1`);
  const ids = async () => (await wh.query<{ id: number; v: string }>(`SELECT id, v FROM ${fx.name}.t ORDER BY id`)).map((r) => `${r.id}:${r.v}`);
  await until('the table created again with the later changes', async () => (await ids()).join() === '1:a2,2:b', 90_000);
  assert.equal(s.sink.status, 'RUNNING');
});

test('bad input: two source tables that would share one Delta table stop the sink naming both and the fix', async (t) => {
  const { fx, stops } = await pipelineEnv(t, 'dupmap');
  const other = `${fx.schema}_b`;
  await fx.db.query(`CREATE SCHEMA ${other}; CREATE TABLE ${fx.schema}.t (id int PRIMARY KEY); CREATE TABLE ${other}.t (id int PRIMARY KEY)`);
  stops.unshift(async () => { await fx.db.query(`DROP SCHEMA IF EXISTS ${other} CASCADE`); }); // after the services stop
  await fx.db.query(`INSERT INTO ${fx.schema}.t VALUES (1); INSERT INTO ${other}.t VALUES (1)`);
  const c = await startConnector(fx.config({ tables: [`${fx.schema}.t`, `${other}.t`] }));
  stops.push(async () => { await c.connector.stop(); await c.done; });
  const sink = new Sink(parseSinkConfig(sinkConfig(fx.name)), testLog);
  await assert.rejects(sink.run(), (e: unknown) => e instanceof TracelakeError && e.code === 'DUPLICATE_TABLE_MAPPING'
    && e.message.includes(`${fx.schema}.t`) && e.message.includes(`${other}.t`) && /tables\[".*"\]\.name/.test(e.remedy));
});
