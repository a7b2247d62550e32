// The connector's part of the bad-input catalogue (docs/bad-input.md): each case stops with a clear error
// (code, what, where, fix) or is absorbed, and nothing already captured is lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { ConfigResourceTypes } from '@platformatic/kafka';
import { Connector } from '../../../connector/src/connector.ts';
import { parseConnectorConfig, type ConnectorConfigInput } from '../../../connector/src/config.ts';
import { TracelakeError } from '../../../schemas/src/errors.ts';
import { connectorFixture, startConnector, testLog } from '../../support/connector.ts';
import { tempPostgres } from '../../support/temp-postgres.ts';
import { readTopic, withAdmin } from '../../support/kafka.ts';
import { stack } from '../../support/stack.ts';
import { topicSize } from '../../support/metrics.ts';
import { until } from '../../support/wait.ts';

const run = (cfg: ConnectorConfigInput) => new Connector(parseConnectorConfig(cfg), testLog).run();
const fails = (code: string, check: (e: TracelakeError) => boolean = () => true) => (e: unknown) => {
  assert.ok(e instanceof TracelakeError, `a TracelakeError, got ${String(e)}`);
  assert.equal(e.code, code, e.message);
  assert.ok(e.remedy.length > 10, 'a remedy');
  return check(e);
};

test('bad input: REPLICA IDENTITY NOTHING stops the start naming the table and the ALTER that fixes it', async (t) => {
  const fx = await connectorFixture('rinothing');
  t.after(() => fx.cleanup());
  await fx.db.query(`CREATE TABLE ${fx.schema}.t (id int PRIMARY KEY); ALTER TABLE ${fx.schema}.t REPLICA IDENTITY NOTHING`);
  await assert.rejects(run(fx.config({ tables: [`${fx.schema}.t`] })), fails('REPLICA_IDENTITY', (e) => e.message.includes(`${fx.schema}.t`) && /REPLICA IDENTITY DEFAULT/.test(e.remedy)));
});

test('bad input: a user without REPLICATION is refused before any slot is touched', async (t) => {
  const fx = await connectorFixture('norep');
  const role = `${fx.name}_r`;
  t.after(async () => {
    await fx.db.query(`DROP OWNED BY ${role}`).catch(() => undefined);
    await fx.db.query(`DROP ROLE IF EXISTS ${role}`);
    await fx.cleanup();
  });
  await fx.db.query(`CREATE TABLE ${fx.schema}.t (id int PRIMARY KEY)`);
  await fx.db.query(`CREATE ROLE ${role} LOGIN; GRANT USAGE ON SCHEMA ${fx.schema} TO ${role}; GRANT SELECT ON ${fx.schema}.t TO ${role}`);
  const url = new URL(stack().pgUrl);
  url.username = role;
  await assert.rejects(run(fx.config({ url: url.toString(), tables: [`${fx.schema}.t`] })), fails('PG_PRIVILEGE', (e) => e.message.includes(role) && /WITH REPLICATION/.test(e.remedy)));
  const { rows } = await fx.db.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [fx.name]);
  assert.equal(rows.length, 0, 'no slot created');
});

test('bad input: wal_level replica is refused with the setting to change', async (t) => {
  const server = await tempPostgres({ wal_level: 'replica' });
  t.after(() => server.stop());
  const cfg: ConnectorConfigInput = {
    source: { url: server.url, tables: ['public.t'] }, kafka: { brokers: stack().kafkaBrokers, topicPrefix: 'walrep' }, registry: { url: stack().registryUrl },
  };
  await assert.rejects(run(cfg), fails('WAL_LEVEL', (e) => /'replica'/.test(e.message) && /wal_level = logical/.test(e.remedy)));
});

test('bad input: a slot whose WAL was removed (wal_status lost) stops with the fix; when_needed re-snapshots', async (t) => {
  const cleanups: Array<() => unknown> = []; // run last-first: the server goes after its clients
  t.after(async () => { for (const c of cleanups.reverse()) await c(); });
  const server = await tempPostgres({ wal_level: 'logical', max_slot_wal_keep_size: '1MB', max_wal_size: '32MB', min_wal_size: '32MB' });
  cleanups.push(() => server.stop());
  const db = new pg.Client({ connectionString: server.url });
  await db.connect();
  cleanups.push(() => db.end());
  await db.query('CREATE TABLE public.t (id int PRIMARY KEY, v text)');
  await db.query(`INSERT INTO public.t SELECT g, 'x' FROM generate_series(1, 10) g`);
  const prefix = `lost_${process.pid}`;
  const cfg = (mode: 'initial' | 'when_needed'): ConnectorConfigInput => ({
    source: { url: server.url, tables: ['public.t'], heartbeatIntervalMs: 0, snapshot: { mode } },
    kafka: { brokers: stack().kafkaBrokers, topicPrefix: prefix, partitions: 1, stateTopic: `${prefix}.state` },
    registry: { url: stack().registryUrl }, batching: { lingerMs: 5 },
  });
  const first = await startConnector(cfg('initial'));
  await first.connector.stop();
  await first.done;
  // WAL the stopped slot needs is written and recycled past max_slot_wal_keep_size
  for (let i = 0; i < 4; i++) {
    await db.query(`INSERT INTO public.t SELECT g, repeat('w', 2000) FROM generate_series(${100 + i * 2000}, ${99 + (i + 1) * 2000}) g`);
    await db.query('SELECT pg_switch_wal()');
  }
  await db.query('CHECKPOINT');
  const { rows: [slot] } = await db.query<{ wal_status: string }>('SELECT wal_status FROM pg_replication_slots');
  assert.equal(slot?.wal_status, 'lost');
  await assert.rejects(run(cfg('initial')), fails('SLOT_LOST', (e) => /when_needed/.test(e.remedy)));
  // the operator's fix: a roomier WAL limit, then a start that may re-snapshot
  await db.query(`ALTER SYSTEM SET max_slot_wal_keep_size = '-1'`);
  await db.query('SELECT pg_reload_conf()');
  const again = await startConnector(cfg('when_needed'));
  cleanups.push(async () => { await again.connector.stop(); await again.done; });
  const { rows: [n] } = await db.query<{ n: string }>('SELECT count(*) AS n FROM public.t');
  await until('the new snapshot', async () => (await topicSize(`${prefix}.public.t`)) >= 10 + Number(n!.n));
});

test('bad input: the schema registry unreachable at start fails naming it; nothing is acknowledged', async (t) => {
  const fx = await connectorFixture('noreg');
  t.after(() => fx.cleanup());
  await fx.db.query(`CREATE TABLE ${fx.schema}.t (id int PRIMARY KEY)`);
  await fx.db.query(`INSERT INTO ${fx.schema}.t VALUES (1)`);
  const cfg = { ...fx.config({ tables: [`${fx.schema}.t`] }), registry: { url: 'http://127.0.0.1:9/apis/ccompat/v7' } };
  await assert.rejects(run(cfg), fails('REGISTRY_UNAVAILABLE', (e) => /registry\.url/.test(e.remedy)));
  // the snapshot was not recorded: the next start (registry back) takes it again
  const ok = await startConnector(fx.config({ tables: [`${fx.schema}.t`] }));
  t.after(async () => { await ok.connector.stop(); await ok.done; });
  const msgs = await readTopic(fx.topic('t'), (m) => m.length >= 1, 30_000);
  assert.equal(msgs.length, 1);
});

test('bad input: Kafka unreachable at start fails naming the brokers setting', async (t) => {
  const fx = await connectorFixture('nokafka');
  t.after(() => fx.cleanup());
  await fx.db.query(`CREATE TABLE ${fx.schema}.t (id int PRIMARY KEY)`);
  const cfg = fx.config({ tables: [`${fx.schema}.t`] });
  await assert.rejects(run({ ...cfg, kafka: { ...cfg.kafka, brokers: ['127.0.0.1:9'] } }), fails('KAFKA_UNAVAILABLE', (e) => /kafka\.brokers/.test(e.remedy)));
});

test('bad input: a row larger than the topic allows stops the connector before the slot passes it; a raised limit delivers it', async (t) => {
  const fx = await connectorFixture('toolarge');
  t.after(() => fx.cleanup());
  await fx.db.query(`CREATE TABLE ${fx.schema}.t (id int PRIMARY KEY, v text)`);
  await fx.db.query(`ALTER TABLE ${fx.schema}.t ALTER COLUMN v SET STORAGE EXTERNAL`);
  const base = fx.config({ tables: [`${fx.schema}.t`] });
  const cfg = { ...base, kafka: { ...base.kafka, topicConfig: { 'max.message.bytes': '2000' } } };
  const c = await startConnector(cfg);
  await fx.db.query(`INSERT INTO ${fx.schema}.t VALUES (1, 'small')`);
  await until('the small row', async () => (await topicSize(fx.topic('t'))) === 1);
  const { rows: [before] } = await fx.db.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
  // hex digests: records are compressed (zstd), so the value must not shrink below the topic's 2000 bytes
  await fx.db.query(`INSERT INTO ${fx.schema}.t SELECT 2, string_agg(md5(g::text), '') FROM generate_series(1, 700) g`);
  await assert.rejects(c.done, fails('KAFKA_MESSAGE_TOO_LARGE', (e) => /max\.message\.bytes/.test(e.remedy)));
  const { rows: [slot] } = await fx.db.query<{ behind: boolean }>(
    'SELECT confirmed_flush_lsn <= $2::pg_lsn AS behind FROM pg_replication_slots WHERE slot_name = $1', [fx.name, before!.lsn]);
  assert.equal(slot?.behind, true, 'the slot was not confirmed past the refused row');
  await withAdmin((admin) => admin.alterConfigs({ resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: fx.topic('t'), configs: [{ name: 'max.message.bytes', value: '1048576' }] }] }));
  const again = await startConnector(base);
  t.after(async () => { await again.connector.stop(); await again.done; });
  await until('the large row', async () => (await topicSize(fx.topic('t'))) === 2);
});

test('bad input: a change topic deleted under a streaming connector is created again; later changes arrive', async (t) => {
  const fx = await connectorFixture('deltopic');
  t.after(() => fx.cleanup());
  await fx.db.query(`CREATE TABLE ${fx.schema}.t (id int PRIMARY KEY)`);
  const c = await startConnector(fx.config({ tables: [`${fx.schema}.t`] }));
  t.after(async () => { await c.connector.stop(); await c.done.catch(() => undefined); });
  await fx.db.query(`INSERT INTO ${fx.schema}.t VALUES (1)`);
  await until('the first row', async () => (await topicSize(fx.topic('t'))) === 1);
  await withAdmin(async (admin) => {
    await admin.deleteTopics({ topics: [fx.topic('t')] });
    await until('the topic gone', async () => !(await admin.listTopics()).includes(fx.topic('t')));
  });
  await fx.db.query(`INSERT INTO ${fx.schema}.t VALUES (2), (3)`);
  const msgs = await readTopic(fx.topic('t'), (m) => m.length >= 2, 90_000);
  assert.deepEqual(msgs.map((m) => m.key?.id).sort(), [2, 3]);
  assert.equal(c.connector.status, 'RUNNING');
});

test('bad input: a timestamp of infinity stops the connector naming table.column; the slot stays before it', async (t) => {
  const fx = await connectorFixture('infinity');
  t.after(() => fx.cleanup());
  await fx.db.query(`CREATE TABLE ${fx.schema}.t (id int PRIMARY KEY, at timestamptz)`);
  const c = await startConnector(fx.config({ tables: [`${fx.schema}.t`] }));
  await fx.db.query(`INSERT INTO ${fx.schema}.t VALUES (1, 'infinity')`);
  await assert.rejects(c.done, (e: unknown) => e instanceof TracelakeError && e.message.includes(`${fx.schema}.t.at`) && /infinity/.test(e.message) && e.remedy.length > 0);
});
