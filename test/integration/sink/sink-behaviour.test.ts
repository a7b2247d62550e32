// The sink against the real stack: schema evolution with clustering, poison records and the dead-letter
// topic, a kill -9 between MERGE and offset commit, and a warehouse outage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { produceRaw, readRawRecords } from '../../support/kafka.ts';
import { startConnector, testLog } from '../../support/connector.ts';
import { Sink } from '../../../sink/src/sink.ts';
import { parseSinkConfig } from '../../../sink/src/config.ts';
import { sinkConfig, startSink } from '../../support/sink.ts';
import { spawnService } from '../../support/service-process.ts';
import { connectTestWarehouse } from '../../support/warehouse.ts';
import { pipelineEnv } from '../../support/pipeline.ts';
import { stack } from '../../support/stack.ts';
import { TracelakeError } from '../../../schemas/src/errors.ts';
import type { Warehouse } from '../../../sink/src/warehouse/databricks-client.ts';
import { until } from '../../support/wait.ts';



const count = async (wh: Warehouse, table: string, where = 'TRUE') =>
  Number((await wh.query<{ n: number }>(`SELECT count(*) AS n FROM ${table} WHERE ${where}`))[0]!.n);

test('a new source column becomes a Delta column before the MERGE that needs it; clustering is applied', async (t) => {
  const { fx, wh, stops } = await pipelineEnv(t, 'sevo');
  await fx.db.query(`CREATE TABLE ${fx.schema}.spans (id int PRIMARY KEY, project text, start_time timestamptz)`);
  await fx.db.query(`INSERT INTO ${fx.schema}.spans VALUES (1, 'p', now())`);
  const c = await startConnector(fx.config({ tables: [`${fx.schema}.spans`] }));
  stops.push(async () => { await c.connector.stop(); await c.done; });
  const s = await startSink(sinkConfig(fx.name, { tables: { [`${fx.schema}.spans`]: { clusterBy: ['start_time', 'project'] } } }));
  stops.push(async () => { await s.sink.stop(); await s.done; });
  await until('the first row', async () => (await count(wh, `${fx.name}.spans`)) === 1);
  await fx.db.query(`ALTER TABLE ${fx.schema}.spans ADD COLUMN model text`);
  await fx.db.query(`INSERT INTO ${fx.schema}.spans VALUES (2, 'p', now(), 'gpt-4o')`);
  await until('the row with the new column', async () => (await count(wh, `${fx.name}.spans`, `model = 'gpt-4o'`)) === 1);
  const [detail] = await wh.query<{ clusteringColumns: unknown }>(`DESCRIBE DETAIL ${fx.name}.spans`);
  assert.match(String(detail?.clusteringColumns), /start_time.*project/);
});

test('poison records go to the dead-letter topic with Kafka Connect error headers; with tolerance none the sink stops', async (t) => {
  const { fx, wh, stops } = await pipelineEnv(t, 'poison');
  await fx.db.query(`CREATE TABLE ${fx.schema}.t (id int PRIMARY KEY, v text)`);
  await fx.db.query(`INSERT INTO ${fx.schema}.t VALUES (1, 'a'), (2, 'b')`);
  const c = await startConnector(fx.config({ tables: [`${fx.schema}.t`] }));
  stops.push(async () => { await c.connector.stop(); await c.done; });
  await produceRaw([
    { topic: fx.topic('t'), partition: 0, key: Buffer.from('k'), value: Buffer.from('definitely not avro') },
    { topic: fx.topic('t'), partition: 0, key: Buffer.from('k'), value: Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0, 1, 2, 3]) }, // unknown schema id
  ]);
  await fx.db.query(`INSERT INTO ${fx.schema}.t VALUES (3, 'c')`);

  // it may fail before it ever reports RUNNING, so it is run directly rather than through startSink
  const strict = new Sink(parseSinkConfig(sinkConfig(fx.name, { kafka: { brokers: stack().kafkaBrokers, groupId: `${fx.name}-strict`, topicPrefix: fx.name, topicRefreshMs: 1000 } })), testLog);
  await assert.rejects(strict.run(), (e: unknown) => e instanceof TracelakeError && e.code === 'POISON_RECORD' && /@2/.test(e.message));
  assert.equal(strict.status, 'FAILED');

  const dlq = `${fx.name}-dlq`;
  const tolerant = await startSink(sinkConfig(fx.name, { errors: { tolerance: 'all', deadLetterTopic: dlq } }));
  stops.push(async () => { await tolerant.sink.stop(); await tolerant.done; });
  await until('the valid rows', async () => (await count(wh, `${fx.name}.t`)) === 3);
  assert.equal(tolerant.sink.stats.deadLettered, 2);
  const headers = (await readRawRecords(dlq, 2)).map((r) => r.headers);
  assert.deepEqual(headers.map((h) => h['__connect.errors.offset']), ['2', '3']);
  assert.equal(headers[0]!['__connect.errors.topic'], fx.topic('t'));
  assert.equal(headers[0]!['__connect.errors.exception.class.name'], 'NOT_WIRE_FORMAT');
  assert.equal(headers[1]!['__connect.errors.exception.class.name'], 'SCHEMA_NOT_FOUND');
});

test('sink killed between MERGE and offset commit: the replay changes nothing, nothing is lost', async (t) => {
  const { fx, wh, stops } = await pipelineEnv(t, 'skill');
  await fx.db.query(`CREATE TABLE ${fx.schema}.t (id int PRIMARY KEY, v int)`);
  await fx.db.query(`INSERT INTO ${fx.schema}.t SELECT g, 0 FROM generate_series(1, 50) g`);
  const c = await startConnector(fx.config({ tables: [`${fx.schema}.t`] }));
  stops.push(async () => { await c.connector.stop(); await c.done; });
  // a stable member identity (static membership), as docs/sink.md advises for replicas
  const base = sinkConfig(fx.name);
  const cfg = { ...base, kafka: { ...base.kafka!, groupInstanceId: `${fx.name}-replica-0` } };
  const first = spawnService('sink', cfg, { TRACELAKE_FAULTS: 'after-merge:1' });
  stops.push(() => first.stop());
  assert.equal((await first.exited).signal, 'SIGKILL');
  const merged = await count(wh, `${fx.name}.t`);
  assert.equal(merged, 50, 'the first batch was in Delta before the kill');
  // while it is down: a 5,000-row transaction, updates and deletes
  await fx.db.query(`INSERT INTO ${fx.schema}.t SELECT g, 2 FROM generate_series(1001, 6000) g`);
  await fx.db.query(`UPDATE ${fx.schema}.t SET v = v + 1 WHERE id <= 10`);
  await fx.db.query(`DELETE FROM ${fx.schema}.t WHERE id BETWEEN 46 AND 50`);
  // the killed member never left the group; restarted with the same identity it gets its partitions back at once
  // (without one, only once the dead member's session times out: kafka.sessionTimeoutMs, 10 s by default), and it
  // catches up from the committed offsets
  const restarted = Date.now();
  const second = spawnService('sink', cfg);
  stops.push(() => second.stop());
  await until('Delta to match Postgres', async () =>
    (await count(wh, `${fx.name}.t`)) === 5045 && (await count(wh, `${fx.name}.t`, 'v = 1')) === 10, 120_000);
  t.diagnostic(`restarted after kill -9: caught up on a 5,000-row transaction ${((Date.now() - restarted) / 1000).toFixed(1)} s after its start`);
  const rows = await wh.query<{ id: number; n: number }>(`SELECT id, count(*) AS n FROM ${fx.name}.t GROUP BY id HAVING count(*) > 1`);
  assert.deepEqual(rows, [], 'no duplicate keys');
});

test('the warehouse goes away: the sink reports RETRYING, commits nothing, and catches up when it is back', async (t) => {
  const { fx, wh, stops } = await pipelineEnv(t, 'outage');
  const script = fileURLToPath(new URL('../../../scripts/stack/warehouse.sh', import.meta.url));
  t.after(() => { execFileSync(script, ['up'], { stdio: 'ignore' }); });
  await fx.db.query(`CREATE TABLE ${fx.schema}.t (id int PRIMARY KEY)`);
  await fx.db.query(`INSERT INTO ${fx.schema}.t VALUES (1)`);
  const c = await startConnector(fx.config({ tables: [`${fx.schema}.t`] }));
  stops.push(async () => { await c.connector.stop(); await c.done; });
  const s = await startSink(sinkConfig(fx.name));
  stops.push(async () => { await s.sink.stop(); await s.done; });
  await until('the first row', async () => (await count(wh, `${fx.name}.t`)) === 1);
  execFileSync(script, ['down'], { stdio: 'ignore' });
  await fx.db.query(`INSERT INTO ${fx.schema}.t VALUES (2), (3)`);
  await until('the sink to notice', () => s.sink.status === 'RETRYING', 30_000);
  execFileSync(script, ['up'], { stdio: 'ignore' });
  const back = await connectTestWarehouse();
  t.after(() => back.close());
  await until('the rows written during the outage', async () => (await count(back, `${fx.name}.t`)) === 3, 90_000);
  assert.equal(s.sink.status, 'RUNNING');
});

test('a value the warehouse rejects (a Delta CHECK constraint) is isolated and dead-lettered; the rest of the batch lands', async (t) => {
  const { fx, wh, stops } = await pipelineEnv(t, 'reject');
  await fx.db.query(`CREATE TABLE ${fx.schema}.t (id int PRIMARY KEY, v text)`);
  await fx.db.query(`INSERT INTO ${fx.schema}.t VALUES (1, 'first')`);
  const c = await startConnector(fx.config({ tables: [`${fx.schema}.t`] }));
  stops.push(async () => { await c.connector.stop(); await c.done; });
  const dlq = `${fx.name}-dlq`;
  const s = await startSink(sinkConfig(fx.name, { errors: { tolerance: 'all', deadLetterTopic: dlq }, batching: { maxWaitMs: 3000 } }));
  stops.push(async () => { await s.sink.stop(); await s.done; });
  await until('the first row', async () => (await count(wh, `${fx.name}.t`)) === 1);
  await wh.query(`ALTER TABLE ${fx.name}.t ADD CONSTRAINT no_poison CHECK (v IS NULL OR v <> 'poison')`);
  await fx.db.query(`INSERT INTO ${fx.schema}.t VALUES (10, 'ok'), (11, 'poison'), (12, 'fine'), (13, 'also fine')`);
  await until('the accepted rows', async () => (await count(wh, `${fx.name}.t`)) === 4);
  assert.deepEqual((await wh.query<{ id: number }>(`SELECT id FROM ${fx.name}.t ORDER BY id`)).map((r) => Number(r.id)), [1, 10, 12, 13]);
  assert.equal(s.sink.stats.deadLettered, 1);
  assert.equal(s.sink.status, 'RUNNING');
  const got = (await readRawRecords(dlq, 1))[0]!.headers;
  assert.equal(got['__connect.errors.stage'], 'TASK_PUT');
  assert.match(got['__connect.errors.exception.message'] ?? '', /no_poison|CHECK|constraint/i);
});

test('a column type Delta cannot take in place stops the sink with both types named', async (t) => {
  const { fx, wh, stops } = await pipelineEnv(t, 'widen');
  await fx.db.query(`CREATE TABLE ${fx.schema}.t (id int PRIMARY KEY, n int)`);
  await fx.db.query(`INSERT INTO ${fx.schema}.t VALUES (1, 1)`);
  const c = await startConnector(fx.config({ tables: [`${fx.schema}.t`] }));
  stops.push(async () => { await c.connector.stop(); await c.done; });
  const s = await startSink(sinkConfig(fx.name));
  stops.push(async () => { await s.sink.stop(); await s.done; });
  await until('the first row', async () => (await count(wh, `${fx.name}.t`)) === 1);
  await fx.db.query(`ALTER TABLE ${fx.schema}.t ALTER COLUMN n TYPE bigint`); // int → long: fine for Avro readers
  await fx.db.query(`INSERT INTO ${fx.schema}.t VALUES (2, 5000000000)`);
  const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('the sink did not stop')), 60_000));
  await assert.rejects(Promise.race([s.done, timeout]), (e: unknown) => e instanceof TracelakeError && e.code === 'INCOMPATIBLE_COLUMN_TYPE'
    && /\.t\.n/.test(e.message) && /INT/i.test(e.message) && /BIGINT/.test(e.message));
  assert.equal(await count(wh, `${fx.name}.t`), 1, 'nothing of the batch was merged');
});
