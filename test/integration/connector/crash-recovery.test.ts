// kill -9 of the connector process at its most delicate points; after a restart nothing is missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectorFixture } from '../../support/connector.ts';
import { readTopic } from '../../support/kafka.ts';
import { spawnService } from '../../support/service-process.ts';
import { topicSize } from '../../support/metrics.ts';
import { sleep } from '../../support/wait.ts';

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
  // one row at a time, each waited for in Kafka, so that every transaction is a send of its own and the third
  // send's ack is the fault point (50 rows written at once may all go in one or two sends: it never fired)
  let dead = false;
  void first.exited.then(() => (dead = true));
  let i = 0;
  while (!dead && i < 50) {
    await fx.db.query(`INSERT INTO ${fx.schema}.t VALUES ($1, 'v')`, [++i]);
    const deadline = Date.now() + 30_000;
    while (!dead && (await topicSize(fx.topic('t'))) < i) {
      if (Date.now() > deadline) throw new Error(`row ${i} did not reach Kafka within 30 s`);
      await sleep(20);
    }
  }
  const died = await first.exited;
  assert.equal(died.signal, 'SIGKILL', 'the fault point killed the process');
  assert.ok(i <= 4, `killed at the third acknowledged send (after row ${i})`);
  while (i < 50) await fx.db.query(`INSERT INTO ${fx.schema}.t VALUES ($1, 'v')`, [++i]);
  const { rows: [slot] } = await fx.db.query<{ active: boolean }>('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [fx.name]);
  assert.equal(slot?.active === true, false);

  for (let i = 51; i <= 60; i++) await fx.db.query(`INSERT INTO ${fx.schema}.t VALUES ($1, 'v')`, [i]);
  const second = spawnService('connector', cfg);
  t.after(() => second.stop());
  const msgs = await readTopic(fx.topic('t'), (m) => ids(m).size >= 60, 30_000);
  assert.equal(ids(msgs).size, 60, 'every insert reached Kafka (duplicates allowed, gaps not)');
  assert.deepEqual([...ids(msgs)].sort((a, b) => a - b), Array.from({ length: 60 }, (_, i) => i + 1));
});

test('killed in the middle of the initial snapshot: the next start takes the snapshot again, and rows sent before the kill and deleted since get their deletes', async (t) => {
  const fx = await connectorFixture('snapkill');
  t.after(() => fx.cleanup());
  await fx.db.query(`CREATE TABLE ${fx.schema}.t (id int PRIMARY KEY, v text)`);
  await fx.db.query(`INSERT INTO ${fx.schema}.t SELECT g, 'v' FROM generate_series(1, 250) g`);
  // small produce batches: part of the snapshot reaches Kafka before the kill; two readers share the block
  // ranges (the parallel path on the real server: every id must still arrive exactly as in Postgres)
  const cfg = { ...fx.config({ tables: [`${fx.schema}.t`], snapshot: { mode: 'initial', chunkRows: 100, readers: 2 } }), batching: { maxMessages: 20 } };

  const first = spawnService('connector', cfg, { TRACELAKE_FAULTS: 'snapshot-chunk:2' });
  t.after(() => first.stop());
  assert.equal((await first.exited).signal, 'SIGKILL');
  // rows the cut-short snapshot already sent change and go before the next start
  const sent = [...ids(await readTopic(fx.topic('t'), () => false, 5_000))].sort((a, b) => a - b);
  assert.ok(sent.length >= 20 && sent.length < 250, `${sent.length} rows sent before the kill`);
  const gone = sent.slice(0, 5);
  await fx.db.query(`DELETE FROM ${fx.schema}.t WHERE id = ANY($1)`, [gone]);
  await fx.db.query(`UPDATE ${fx.schema}.t SET v = 'changed' WHERE id = $1`, [sent[10]]);

  const second = spawnService('connector', cfg);
  t.after(() => second.stop());
  await second.waitForLog(/"msg":"streaming"/);
  await fx.db.query(`INSERT INTO ${fx.schema}.t VALUES (251, 'after')`);
  const msgs = await readTopic(fx.topic('t'), (m) => ids(m).has(251) && gone.every((id) => m.some((x) => x.value === null || (x.value as { op?: string }).op === 'd' ? Number((x.key as { id: number }).id) === id : false)), 30_000);
  assert.equal(ids(msgs).size, 251);
  const deleted = new Set(msgs.filter((m) => m.value !== null && (m.value as { op: string }).op === 'd').map((m) => Number((m.key as { id: number }).id)));
  assert.deepEqual([...deleted].sort((a, b) => a - b), gone, 'the deletes made between the two attempts reach Kafka');
  assert.match(second.output(), /"msg":"keeping the slot of an unfinished snapshot and taking the snapshot again"/);
});
