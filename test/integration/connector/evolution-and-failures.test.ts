// Connector behaviour beyond the happy path, on the real stack: schema evolution, incompatible changes,
// unsupported types, missing keys, an idle slot kept advancing, a slot owned by another instance, and the
// connection, Kafka or Postgres itself going away under it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectorFixture, startConnector, testLog } from '../../support/connector.ts';
import { readTopic } from '../../support/kafka.ts';
import { Connector } from '../../../connector/src/connector.ts';
import { parseConnectorConfig } from '../../../connector/src/config.ts';
import { parseLsn } from '../../../schemas/src/lsn.ts';
import { TracelakeError } from '../../../schemas/src/errors.ts';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { until, sleep } from '../../support/wait.ts';


test('a new column registers a new schema version before its first event; an incompatible change fails with the reason', async (t) => {
  const fx = await connectorFixture('evo');
  t.after(() => fx.cleanup());
  await fx.db.query(`CREATE TABLE ${fx.schema}.t (id int PRIMARY KEY, a text)`);
  const { connector, done } = await startConnector(fx.config({ tables: [`${fx.schema}.t`], snapshot: { mode: 'no_data' } }));
  await fx.db.query(`INSERT INTO ${fx.schema}.t VALUES (1, 'one')`);
  await fx.db.query(`ALTER TABLE ${fx.schema}.t ADD COLUMN b int`);
  await fx.db.query(`INSERT INTO ${fx.schema}.t VALUES (2, 'two', 22)`);
  const msgs = await readTopic(fx.topic('t'), (m) => m.length >= 2);
  assert.notEqual(msgs[0]!.valueSchemaId, msgs[1]!.valueSchemaId, 'the added column made a new schema version');
  assert.equal((msgs[1]!.value!.after as Record<string, unknown>).b, 22);

  // text → integer: consumers of the earlier versions cannot read it (BACKWARD) → FAILED, slot not past it
  await fx.db.query(`ALTER TABLE ${fx.schema}.t ALTER COLUMN a TYPE int USING length(a)`);
  const before = (await fx.db.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn;
  await fx.db.query(`INSERT INTO ${fx.schema}.t VALUES (3, 3, 33)`);
  await assert.rejects(done, (e: unknown) => e instanceof TracelakeError && e.code === 'INCOMPATIBLE_SCHEMA' && /\.t-value/.test(e.message));
  assert.equal(connector.status, 'FAILED');
  const { rows: [slot] } = await fx.db.query<{ c: string }>('SELECT confirmed_flush_lsn::text AS c FROM pg_replication_slots WHERE slot_name = $1', [fx.name]);
  assert.ok(parseLsn(slot!.c) <= parseLsn(before), 'nothing after the failed transaction was acknowledged');
});

test('unsupported types and missing primary keys stop the start with errors naming the table and the fix', async (t) => {
  const fx = await connectorFixture('bad');
  t.after(() => fx.cleanup());
  await fx.db.query(`CREATE TABLE ${fx.schema}.odd (id int PRIMARY KEY, snap txid_snapshot)`);
  await fx.db.query(`CREATE TABLE ${fx.schema}.nokey (a int, b text)`);
  const run = (table: string) => new Connector(parseConnectorConfig(fx.config({ tables: [`${fx.schema}.${table}`] })), testLog).run();
  await assert.rejects(run('odd'), (e: unknown) =>
    e instanceof TracelakeError && e.code === 'UNSUPPORTED_TYPE' && e.message.includes(`${fx.schema}.odd.snap`) && e.message.includes('txid_snapshot') && e.remedy.length > 0);
  await assert.rejects(run('nokey'), (e: unknown) =>
    e instanceof TracelakeError && e.code === 'MISSING_PRIMARY_KEY' && e.message.includes(`${fx.schema}.nokey`) && /keyColumns/.test(e.remedy));
});

test('an idle captured table does not pin WAL: heartbeats move confirmed_flush_lsn while other tables churn', async (t) => {
  const fx = await connectorFixture('idle');
  t.after(() => fx.cleanup());
  await fx.db.query(`CREATE TABLE ${fx.schema}.quiet (id int PRIMARY KEY)`);
  await fx.db.query(`CREATE TABLE ${fx.schema}.busy (id serial PRIMARY KEY, pad text)`);
  const { connector, done } = await startConnector(fx.config({ tables: [`${fx.schema}.quiet`], snapshot: { mode: 'no_data' }, heartbeatIntervalMs: 300 }));
  t.after(async () => { await connector.stop(); await done; });
  await fx.db.query(`INSERT INTO ${fx.schema}.busy (pad) SELECT repeat('x', 500) FROM generate_series(1, 5000)`);
  const target = parseLsn((await fx.db.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn);
  await until('confirmed_flush_lsn to pass the churn', async () => {
    const { rows: [s] } = await fx.db.query<{ c: string }>('SELECT confirmed_flush_lsn::text AS c FROM pg_replication_slots WHERE slot_name = $1', [fx.name]);
    return parseLsn(s!.c) >= target;
  });
});

test('a second instance on the same slot fails (whenBusy: fail) or stands by and takes over (wait)', async (t) => {
  const fx = await connectorFixture('busy');
  t.after(() => fx.cleanup());
  await fx.db.query(`CREATE TABLE ${fx.schema}.t (id int PRIMARY KEY)`);
  const cfg = (whenBusy: 'fail' | 'wait') => fx.config({ tables: [`${fx.schema}.t`], slot: { name: fx.name, whenBusy } });
  const first = await startConnector(cfg('wait'));
  await assert.rejects(new Connector(parseConnectorConfig(cfg('fail')), testLog).run(),
    (e: unknown) => e instanceof TracelakeError && e.code === 'SLOT_BUSY');
  const standby = new Connector(parseConnectorConfig(cfg('wait')), testLog);
  const standbyDone = standby.run();
  await sleep(2500);
  assert.notEqual(standby.status, 'RUNNING', 'the standby does not touch an active slot');
  await first.connector.stop();
  await first.done;
  await until('the standby to take over', () => standby.status === 'RUNNING');
  await fx.db.query(`INSERT INTO ${fx.schema}.t VALUES (7)`);
  const msgs = await readTopic(fx.topic('t'), (m) => m.some((x) => (x.key as { id?: number } | null)?.id === 7));
  assert.ok(msgs.some((x) => (x.key as { id?: number } | null)?.id === 7));
  await standby.stop();
  await standbyDone;
});

test('the replication connection is killed mid-stream: the connector reconnects and nothing is lost', async (t) => {
  const fx = await connectorFixture('reconnect');
  t.after(() => fx.cleanup());
  await fx.db.query(`CREATE TABLE ${fx.schema}.t (id int PRIMARY KEY)`);
  const { connector, done } = await startConnector(fx.config({ tables: [`${fx.schema}.t`], snapshot: { mode: 'no_data' } }));
  t.after(async () => { await connector.stop(); await done; });
  for (let i = 1; i <= 20; i++) await fx.db.query(`INSERT INTO ${fx.schema}.t VALUES ($1)`, [i]);
  await fx.db.query('SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1', [fx.name]);
  for (let i = 21; i <= 40; i++) await fx.db.query(`INSERT INTO ${fx.schema}.t VALUES ($1)`, [i]);
  const msgs = await readTopic(fx.topic('t'), (m) => new Set(m.map((x) => (x.key as { id: number }).id)).size >= 40);
  assert.equal(new Set(msgs.map((x) => (x.key as { id: number }).id)).size, 40);
  await until('the connector to stream again', () => connector.status === 'RUNNING');
});

test('the Kafka broker restarts under a streaming connector: nothing is acknowledged while it is away, nothing is lost', async (t) => {
  const fx = await connectorFixture('kafkadown');
  t.after(() => fx.cleanup());
  const kafkaScript = fileURLToPath(new URL('../../../scripts/stack/kafka.sh', import.meta.url));
  t.after(() => { execFileSync(kafkaScript, ['up'], { stdio: 'ignore' }); });
  await fx.db.query(`CREATE TABLE ${fx.schema}.t (id int PRIMARY KEY)`);
  const { connector, done } = await startConnector(fx.config({ tables: [`${fx.schema}.t`], snapshot: { mode: 'no_data' } }));
  t.after(async () => { await connector.stop(); await done; });
  await fx.db.query(`INSERT INTO ${fx.schema}.t VALUES (1)`);
  await readTopic(fx.topic('t'), (m) => m.length >= 1);
  execFileSync(kafkaScript, ['down'], { stdio: 'ignore' });
  await fx.db.query(`INSERT INTO ${fx.schema}.t VALUES (2), (3)`);
  const lsn = parseLsn((await fx.db.query<{ l: string }>('SELECT pg_current_wal_lsn()::text AS l')).rows[0]!.l);
  await sleep(3000);
  const { rows: [held] } = await fx.db.query<{ c: string }>('SELECT confirmed_flush_lsn::text AS c FROM pg_replication_slots WHERE slot_name = $1', [fx.name]);
  assert.ok(parseLsn(held!.c) < lsn, 'the slot does not move while Kafka is away');
  execFileSync(kafkaScript, ['up'], { stdio: 'ignore' });
  const msgs = await readTopic(fx.topic('t'), (m) => new Set(m.map((x) => (x.key as { id: number }).id)).size >= 3, 120_000);
  assert.deepEqual([...new Set(msgs.map((x) => (x.key as { id: number }).id))].sort(), [1, 2, 3]);
  await until('the slot to move past the outage', async () => {
    const { rows: [s] } = await fx.db.query<{ c: string }>('SELECT confirmed_flush_lsn::text AS c FROM pg_replication_slots WHERE slot_name = $1', [fx.name]);
    return parseLsn(s!.c) >= lsn;
  }, 120_000);
});

const postgresScript = fileURLToPath(new URL('../../../scripts/stack/postgres.sh', import.meta.url));
/** Postgres down for `ms` (longer than the connector's first reconnect attempts), then up again. */
const restartPostgres = async (ms: number) => {
  execFileSync(postgresScript, ['down'], { stdio: 'ignore' });
  await sleep(ms);
  execFileSync(postgresScript, ['up'], { stdio: 'ignore' });
};
const ids = (msgs: { key: unknown }[]) => new Set(msgs.map((x) => (x.key as { id: number }).id));
/** A readTopic condition "`n` distinct ids seen" that looks at each message once (the run calls it per message). */
const distinctIds = (n: number) => {
  const seen = new Set<number>();
  let looked = 0;
  return (msgs: { key: unknown }[]) => {
    for (; looked < msgs.length; looked++) seen.add((msgs[looked]!.key as { id: number }).id);
    return seen.size >= n;
  };
};

test('Postgres restarts under a streaming connector and stays down past its first reconnects: it streams again, nothing lost, and stops on request', { timeout: 300_000 }, async (t) => {
  const fx = await connectorFixture('pgrestart');
  t.after(() => fx.cleanup());
  t.after(() => { execFileSync(postgresScript, ['up'], { stdio: 'ignore' }); });
  await fx.db.query(`CREATE TABLE ${fx.schema}.t (id int PRIMARY KEY)`);
  const { connector, done } = await startConnector(fx.config({ tables: [`${fx.schema}.t`], snapshot: { mode: 'no_data' } }));
  let stopped = false;
  t.after(async () => { if (!stopped) { await connector.stop(); await done; } });
  for (let i = 1; i <= 10; i++) await fx.db.query(`INSERT INTO ${fx.schema}.t VALUES ($1)`, [i]);
  await readTopic(fx.topic('t'), distinctIds(10));
  await restartPostgres(4000);
  await fx.reconnect();
  for (let i = 11; i <= 20; i++) await fx.db.query(`INSERT INTO ${fx.schema}.t VALUES ($1)`, [i]);
  const msgs = await readTopic(fx.topic('t'), distinctIds(20), 120_000);
  assert.equal(ids(msgs).size, 20);
  await until('the connector to stream again', () => connector.status === 'RUNNING', 60_000);
  // a graceful stop ends the run (it used to wait for ever on a query sent to a connection that never opened)
  await Promise.race([
    (async () => { await connector.stop(); await done; })(),
    new Promise((_, reject) => setTimeout(() => reject(new Error('stop() did not return within 30 s')), 30_000)),
  ]);
  stopped = true;
  assert.equal(connector.status, 'STOPPED');
});

test('Postgres restarts in the middle of the initial snapshot: the connector starts over once it is back and every row arrives', { timeout: 300_000 }, async (t) => {
  const fx = await connectorFixture('pgrestartsnap');
  t.after(() => fx.cleanup());
  t.after(() => { execFileSync(postgresScript, ['up'], { stdio: 'ignore' }); });
  await fx.db.query(`CREATE TABLE ${fx.schema}.t (id int PRIMARY KEY, pad text)`);
  await fx.db.query(`INSERT INTO ${fx.schema}.t SELECT g, repeat('x', 100) FROM generate_series(1, 50000) g`);
  const connector = new Connector(parseConnectorConfig(fx.config({ tables: [`${fx.schema}.t`], snapshot: { chunkRows: 1000 } })), testLog);
  const done = connector.run();
  done.catch(() => undefined);
  t.after(async () => { await connector.stop(); await done.catch(() => undefined); });
  // hold it mid-snapshot (the gate stops it between chunks), take Postgres away, then let it go on
  const snapshot = () => connector.tables()[0]?.snapshot as { rows: number; state: string } | undefined;
  await until('the snapshot to be under way', () => (snapshot()?.rows ?? 0) > 0, 60_000);
  connector.pause();
  await sleep(300);
  assert.equal(snapshot()?.state, 'RUNNING', 'paused mid-snapshot (if it finished first, the table is too small for this machine)');
  await restartPostgres(3000);
  await fx.reconnect();
  connector.resume();
  await fx.db.query(`INSERT INTO ${fx.schema}.t VALUES (50001, 'after')`);
  const msgs = await readTopic(fx.topic('t'), distinctIds(50001), 180_000);
  assert.equal(ids(msgs).size, 50001);
  await until('the connector to stream', () => connector.status === 'RUNNING', 60_000);
  assert.equal(connector.failure, undefined);
});
