// The connector needs no superuser: a role with LOGIN and REPLICATION, USAGE on the schema and SELECT on
// the captured tables, with the publication created by the tables' owner (publication.autocreate:
// disabled), runs the whole pipeline — snapshot, stream, heartbeats — into Delta (docs/operations.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pipelineEnv } from '../../support/pipeline.ts';
import { startConnector } from '../../support/connector.ts';
import { sinkConfig, startSink } from '../../support/sink.ts';
import { compareTable } from '../../support/compare.ts';
import { stack } from '../../support/stack.ts';
import { until } from '../../support/wait.ts';

test('least privilege: a REPLICATION role with SELECT (no superuser) runs snapshot, streaming and heartbeats', async (t) => {
  const { fx, wh, stops } = await pipelineEnv(t, 'leastpriv');
  const role = `${fx.name}_cdc`;
  stops.unshift(async () => { // runs after the services stop, before the schema goes
    await fx.db.query(`DROP PUBLICATION IF EXISTS ${fx.name}`);
    await fx.db.query(`DROP OWNED BY ${role}`);
    await fx.db.query(`DROP ROLE ${role}`);
  });
  await fx.db.query(`CREATE TABLE ${fx.schema}.spans (id bigint PRIMARY KEY, name text, attributes jsonb)`);
  await fx.db.query(`INSERT INTO ${fx.schema}.spans SELECT g, 'before', '{"a": 1}' FROM generate_series(1, 20) g`);
  // what an operator runs once, as the tables' owner (docs/operations.md, "Least-privilege Postgres role")
  await fx.db.query(`CREATE ROLE ${role} LOGIN REPLICATION`);
  await fx.db.query(`GRANT USAGE ON SCHEMA ${fx.schema} TO ${role}`);
  await fx.db.query(`GRANT SELECT ON ALL TABLES IN SCHEMA ${fx.schema} TO ${role}`);
  await fx.db.query(`CREATE PUBLICATION ${fx.name} FOR TABLE ${fx.schema}.spans`);
  const { rows: [r] } = await fx.db.query<{ rolsuper: boolean }>('SELECT rolsuper FROM pg_roles WHERE rolname = $1', [role]);
  assert.equal(r?.rolsuper, false);

  const url = new URL(stack().pgUrl);
  url.username = role;
  const c = await startConnector(fx.config({ url: url.toString(), tables: [`${fx.schema}.spans`], publication: { name: fx.name, autocreate: 'disabled' } }));
  stops.push(async () => { await c.connector.stop(); await c.done; });
  const s = await startSink(sinkConfig(fx.name));
  stops.push(async () => { await s.sink.stop(); await s.done; });
  await fx.db.query(`UPDATE ${fx.schema}.spans SET name = 'after' WHERE id <= 5; DELETE FROM ${fx.schema}.spans WHERE id = 6; INSERT INTO ${fx.schema}.spans VALUES (100, 'new', '{}')`);
  await until('Delta equal to Postgres', async () => (await compareTable(fx.db, fx.schema, 'spans', wh, `${fx.name}.spans`)).mismatches.length === 0, 90_000);
  // heartbeats (pg_logical_emit_message) work for the role: the idle slot keeps moving
  const lsn = async () => (await fx.db.query<{ l: string }>('SELECT confirmed_flush_lsn::text AS l FROM pg_replication_slots WHERE slot_name = $1', [fx.name])).rows[0]!.l;
  const before = await lsn();
  await until('the slot to move on heartbeats', async () => (await lsn()) !== before, 30_000);
  assert.equal(c.connector.status, 'RUNNING');
});
