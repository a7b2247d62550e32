// Smoke: a publication + logical replication slot round trip through pg-logical-replication (pgoutput v1),
// with manual acknowledgement only (the settings the connector uses: with acknowledge.auto false alone, the
// library's timer still confirms the last received LSN; timeoutSeconds 0 is what turns it off).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { LogicalReplicationService, PgoutputPlugin } from 'pg-logical-replication';
import { stack, uniqueName } from '../../support/stack.ts';
import { sleep } from '../../support/wait.ts';

test('pgoutput slot + publication round trip, acknowledged LSN becomes the confirmed flush LSN', async (t) => {
  const table = uniqueName('smoke_repl');
  const slot = table;
  const db = new pg.Client({ connectionString: stack().pgUrl });
  await db.connect();
  let service: LogicalReplicationService | undefined;
  t.after(async () => {
    await service?.stop().catch(() => undefined); // the slot is dropped once no stream holds it
    await db.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1`, [slot]);
    await db.query(`DROP PUBLICATION IF EXISTS ${table}`);
    await db.query(`DROP TABLE IF EXISTS ${table}`);
    await db.end();
  });

  const { rows: [walLevel] } = await db.query('SHOW wal_level');
  assert.equal(walLevel.wal_level, 'logical');
  await db.query(`CREATE TABLE ${table} (id bigint PRIMARY KEY, body text, at timestamptz)`);
  await db.query(`CREATE PUBLICATION ${table} FOR TABLE ${table}`);
  await db.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [slot]);

  service = new LogicalReplicationService(
    { connectionString: stack().pgUrl },
    { acknowledge: { auto: false, timeoutSeconds: 0 } },
  );
  const messages: Array<{ lsn: string; tag: string; new?: Record<string, unknown> }> = [];
  const committed = new Promise<string>((resolve) => {
    service.on('data', (lsn: string, msg: { tag: string; new?: Record<string, unknown> }) => {
      messages.push({ lsn, ...msg });
      if (msg.tag === 'commit') resolve(lsn);
    });
  });
  const streaming = service.subscribe(new PgoutputPlugin({ protoVersion: 1, publicationNames: [table] }), slot);
  streaming.catch(() => undefined); // rejects when stopped at the end

  await db.query(`INSERT INTO ${table} VALUES (1, 'it''s ☃', '2024-01-02 03:04:05.123456+00'), (2, NULL, NULL)`);
  const commitLsn = await committed;

  const tags = messages.map((m) => m.tag);
  assert.deepEqual(tags, ['begin', 'relation', 'insert', 'insert', 'commit']);
  const inserts = messages.filter((m) => m.tag === 'insert').map((m) => m.new);
  assert.equal(inserts[0]?.body, "it's ☃");
  assert.equal(inserts[1]?.body, null);

  const reached = async (): Promise<boolean> => {
    const { rows } = await db.query(
      `SELECT confirmed_flush_lsn >= $2::pg_lsn AS ok FROM pg_replication_slots WHERE slot_name = $1`, [slot, commitLsn]);
    return rows[0].ok === true;
  };
  // nothing acknowledged yet: the slot must not have moved past the commit on its own
  await sleep(1500);
  assert.equal(await reached(), false, 'the slot advanced without an acknowledgement');

  assert.equal(await service.acknowledge(commitLsn), true);
  let ok = false;
  for (let i = 0; i < 50 && !ok; i++) {
    ok = await reached();
    if (!ok) await sleep(100);
  }
  assert.equal(ok, true, `confirmed_flush_lsn should reach the acknowledged commit ${commitLsn}`);
});
