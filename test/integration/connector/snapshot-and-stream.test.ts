// The connector against real Postgres, Kafka and the registry: snapshot then stream, read back from Kafka.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectorFixture, startConnector } from '../../support/connector.ts';
import { readTopic, type DecodedMessage } from '../../support/kafka.ts';
import { parseLsn } from '../../../schemas/src/lsn.ts';
import { sleep } from '../../support/wait.ts';

process.env.TZ = 'America/New_York'; // values must not shift with the process time zone

const decimal = (buf: Buffer, scale: number): string => {
  const n = BigInt.asIntN(buf.length * 8, BigInt('0x' + buf.toString('hex')));
  const s = (n < 0n ? -n : n).toString().padStart(scale + 1, '0');
  return `${n < 0n ? '-' : ''}${s.slice(0, -scale)}.${s.slice(-scale)}`;
};
const after = (m: DecodedMessage) => (m.value?.after ?? null) as Record<string, unknown> | null;
const source = (m: DecodedMessage) => m.value?.source as Record<string, unknown>;

test('snapshot, then inserts/updates/deletes with TOAST, microseconds, decimals, tombstones; restart resumes', async (t) => {
  const fx = await connectorFixture('cs');
  t.after(() => fx.cleanup());
  await fx.db.query(`CREATE TABLE ${fx.schema}.spans (
    id bigint PRIMARY KEY, name text, attributes jsonb, start_time timestamptz, local_time timestamp,
    cost numeric(20,10), big_cost numeric(65,30), tokens int8, tags text[], ok boolean DEFAULT true, ip inet DEFAULT '10.0.0.1')`);
  const big = `{"prompt": "${'x'.repeat(10)}", "blob": "` + Array.from({ length: 1500 }, (_, i) => ((i * 2654435761) % 4294967296).toString(36)).join('') + '"}';
  await fx.db.query(`INSERT INTO ${fx.schema}.spans VALUES
    (1, 'llm', $1, '2024-03-01 12:00:00.123456+00', '2024-03-01 12:00:00.654321', 0.0000001234, 123456789012345678901234567890.123456789012345678901234567891, 9007199254740993, '{a,"b c"}'),
    (2, 'chain', '{}', '2024-03-01 12:00:01+00', NULL, -1.5, NULL, NULL, NULL),
    (3, 'tool', NULL, NULL, NULL, NULL, NULL, NULL, '{}')`, [big]);

  const cfg = fx.config({ tables: [`${fx.schema}.spans`] });
  const { connector, done } = await startConnector(cfg);
  await fx.db.query(`INSERT INTO ${fx.schema}.spans (id, name) VALUES (4, 'it''s ☃')`);
  await fx.db.query(`UPDATE ${fx.schema}.spans SET tokens = 42 WHERE id = 1`); // attributes stays TOASTed
  await fx.db.query(`DELETE FROM ${fx.schema}.spans WHERE id = 2`);
  const lastCommit = (await fx.db.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn;

  const topic = fx.topic('spans');
  const msgs = await readTopic(topic, (m) => m.length >= 7);
  assert.deepEqual(msgs.map((m) => m.value?.op ?? 'tombstone'), ['r', 'r', 'r', 'c', 'u', 'd', 'tombstone']);

  const [r1, r2, r3, c4, u1, d2, tomb] = msgs as [DecodedMessage, DecodedMessage, DecodedMessage, DecodedMessage, DecodedMessage, DecodedMessage, DecodedMessage];
  assert.deepEqual(r1.key, { id: 1n });
  assert.equal(source(r1).snapshot, 'true');
  const a1 = after(r1)!;
  const stored = (await fx.db.query<{ a: string }>(`SELECT attributes::text AS a FROM ${fx.schema}.spans WHERE id = 1`)).rows[0]!.a;
  assert.ok(a1.attributes === stored && stored.length > 8000, 'the large jsonb arrives exactly as Postgres renders it');
  assert.equal(a1.start_time, 1709294400123456n, 'timestamptz keeps microseconds, UTC');
  assert.equal(a1.local_time, 1709294400654321n, 'timestamp is read as UTC wall time');
  assert.equal(decimal(a1.cost as Buffer, 10), '0.0000001234');
  assert.equal(a1.big_cost, '123456789012345678901234567890.123456789012345678901234567891', 'numeric(65,30) kept exactly as a string');
  assert.equal(a1.tokens, 9007199254740993n, 'int8 beyond 2^53 exact');
  assert.deepEqual(a1.tags, ['a', 'b c']);
  assert.equal(a1.ok, true, 'snapshot values are rendered like the stream (boolean::text would be "true")');
  assert.equal(a1.ip, '10.0.0.1', 'inet as its output function renders it (inet::text adds /32)');
  assert.equal(decimal(after(r2)!.cost as Buffer, 10), '-1.5000000000');
  assert.deepEqual(after(r3)!.tags, []);

  assert.equal(after(c4)!.name, "it's ☃");
  assert.equal(after(c4)!.ok, true);
  assert.equal(after(c4)!.ip, '10.0.0.1');
  assert.equal(source(c4).snapshot, 'false');
  assert.ok((source(c4).commit_lsn as bigint) >= (source(r1).commit_lsn as bigint));

  assert.equal(after(u1)!.tokens, 42n);
  assert.equal(after(u1)!.attributes, null);
  assert.deepEqual(u1.value?.unchanged_toast, ['attributes'], 'the unchanged TOASTed column is named, not nulled');

  assert.deepEqual(d2.key, { id: 2n });
  assert.equal(after(d2), null);
  assert.equal((d2.value?.before as Record<string, unknown>).id, 2n);
  assert.deepEqual(tomb.key, { id: 2n });
  assert.equal(tomb.value, null);

  // every change was confirmed: the slot is at or past the last commit
  let confirmed = 0n;
  for (let i = 0; i < 100 && confirmed < parseLsn(lastCommit); i++) {
    const { rows: [s] } = await fx.db.query<{ c: string }>('SELECT confirmed_flush_lsn::text AS c FROM pg_replication_slots WHERE slot_name = $1', [fx.name]);
    confirmed = parseLsn(s!.c);
    if (confirmed < parseLsn(lastCommit)) await sleep(100);
  }
  assert.ok(confirmed >= parseLsn(lastCommit), 'confirmed_flush_lsn reached the last commit');

  await connector.stop();
  await done;

  // while stopped: more changes; a restart streams them and takes no second snapshot
  await fx.db.query(`INSERT INTO ${fx.schema}.spans (id, name) VALUES (5, 'after restart')`);
  const second = await startConnector(cfg);
  const again = await readTopic(topic, (m) => m.length >= 8, 30_000, 1500);
  assert.equal(again.length, 8, 'no second snapshot, no duplicate');
  assert.equal(after(again[7]!)!.name, 'after restart');
  await second.connector.stop();
  await second.done;
});
