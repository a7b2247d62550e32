// kill -9 of the connector process at its most delicate points; after a restart nothing is missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectorFixture } from '../../support/connector.ts';
import { readTopic } from '../../support/kafka.ts';
import { spawnService } from '../../support/service-process.ts';

const ids = (msgs: Array<{ key: Record<string, unknown> | null; value: Record<string, unknown> | null }>) =>
  new Set(msgs.filter((m) => m.value !== null).map((m) => Number((m.key as { id: number }).id)));

test('killed between the Kafka ack and the slot ack: the restart resends, nothing is lost', async (t) => {
  const fx = await connectorFixture('kill');
  t.after(() => fx.cleanup());
  await fx.db.query(`CREATE TABLE ${fx.schema}.t (id int PRIMARY KEY, v text)`);
  const cfg = fx.config({ tables: [`${fx.schema}.t`], snapshot: { mode: 'no_data' } });

  const first = spawnService('connector', cfg, { TRACELAKE_FAULTS: 'after-kafka-ack:3' });
  t.after(() => first.stop());
  await first.waitForLog(/"msg":"streaming"/);
  for (let i = 1; i <= 50; i++) await fx.db.query(`INSERT INTO ${fx.schema}.t VALUES ($1, 'v')`, [i]);
  const died = await first.exited;
  assert.equal(died.signal, 'SIGKILL', 'the fault point killed the process');
  const { rows: [slot] } = await fx.db.query<{ active: boolean }>('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [fx.name]);
  assert.equal(slot?.active === true, false);

  for (let i = 51; i <= 60; i++) await fx.db.query(`INSERT INTO ${fx.schema}.t VALUES ($1, 'v')`, [i]);
  const second = spawnService('connector', cfg);
  t.after(() => second.stop());
  const msgs = await readTopic(fx.topic('t'), (m) => ids(m).size >= 60, 30_000);
  assert.equal(ids(msgs).size, 60, 'every insert reached Kafka (duplicates allowed, gaps not)');
  assert.deepEqual([...ids(msgs)].sort((a, b) => a - b), Array.from({ length: 60 }, (_, i) => i + 1));
});

test('killed in the middle of the initial snapshot: the next start takes the snapshot again, then streams', async (t) => {
  const fx = await connectorFixture('snapkill');
  t.after(() => fx.cleanup());
  await fx.db.query(`CREATE TABLE ${fx.schema}.t (id int PRIMARY KEY, v text)`);
  await fx.db.query(`INSERT INTO ${fx.schema}.t SELECT g, 'v' FROM generate_series(1, 250) g`);
  const cfg = fx.config({ tables: [`${fx.schema}.t`], snapshot: { mode: 'initial', chunkRows: 100 } });

  const first = spawnService('connector', cfg, { TRACELAKE_FAULTS: 'snapshot-chunk:2' });
  t.after(() => first.stop());
  assert.equal((await first.exited).signal, 'SIGKILL');

  const second = spawnService('connector', cfg);
  t.after(() => second.stop());
  await second.waitForLog(/"msg":"streaming"/);
  await fx.db.query(`INSERT INTO ${fx.schema}.t VALUES (251, 'after')`);
  const msgs = await readTopic(fx.topic('t'), (m) => ids(m).size >= 251, 30_000);
  assert.equal(ids(msgs).size, 251);
  assert.match(second.output(), /"msg":"dropping the slot of an unfinished snapshot to take it again"/);
});
