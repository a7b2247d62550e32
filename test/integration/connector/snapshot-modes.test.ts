// Snapshot modes: initial_only reads and stops without leaving a slot; when_needed re-snapshots when the
// slot is gone; initial refuses to go on silently in that case.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectorFixture, startConnector, testLog } from '../../support/connector.ts';
import { readTopic } from '../../support/kafka.ts';
import { Connector } from '../../../connector/src/connector.ts';
import { parseConnectorConfig } from '../../../connector/src/config.ts';
import { TracelakeError } from '../../../schemas/src/errors.ts';

test('initial_only snapshots and stops; no slot is left behind', async (t) => {
  const fx = await connectorFixture('only');
  t.after(() => fx.cleanup());
  await fx.db.query(`CREATE TABLE ${fx.schema}.t (id int PRIMARY KEY)`);
  await fx.db.query(`INSERT INTO ${fx.schema}.t SELECT generate_series(1, 30)`);
  const c = new Connector(parseConnectorConfig(fx.config({ tables: [`${fx.schema}.t`], snapshot: { mode: 'initial_only' } })), testLog);
  await c.run();
  assert.equal(c.status, 'STOPPED');
  const msgs = await readTopic(fx.topic('t'), (m) => m.length >= 30);
  assert.equal(msgs.length, 30);
  assert.ok(msgs.every((m) => m.value?.op === 'r'));
  const { rows } = await fx.db.query(`SELECT 1 FROM pg_replication_slots WHERE slot_name LIKE $1`, [`${fx.name}%`]);
  assert.equal(rows.length, 0);
});

test('slot dropped after a finished snapshot: initial fails with the fix, when_needed takes a new snapshot', async (t) => {
  const fx = await connectorFixture('needed');
  t.after(() => fx.cleanup());
  await fx.db.query(`CREATE TABLE ${fx.schema}.t (id int PRIMARY KEY)`);
  await fx.db.query(`INSERT INTO ${fx.schema}.t SELECT generate_series(1, 5)`);
  const first = await startConnector(fx.config({ tables: [`${fx.schema}.t`] }));
  await readTopic(fx.topic('t'), (m) => m.length >= 5);
  await first.connector.stop();
  await first.done;
  await fx.db.query('SELECT pg_drop_replication_slot($1)', [fx.name]);
  await fx.db.query(`INSERT INTO ${fx.schema}.t VALUES (6)`); // lost to streaming: only a snapshot can bring it

  await assert.rejects(new Connector(parseConnectorConfig(fx.config({ tables: [`${fx.schema}.t`] })), testLog).run(),
    (e: unknown) => e instanceof TracelakeError && e.code === 'SLOT_LOST' && /when_needed/.test(e.remedy));

  const again = await startConnector(fx.config({ tables: [`${fx.schema}.t`], snapshot: { mode: 'when_needed' } }));
  t.after(async () => { await again.connector.stop(); await again.done; });
  const msgs = await readTopic(fx.topic('t'), (m) => m.some((x) => (x.key as { id: number }).id === 6));
  assert.equal(msgs.filter((m) => m.value?.op === 'r').length, 11, 'second snapshot re-reads all six rows');
});
