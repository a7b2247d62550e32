// TLS and authentication on the real stack: the connector reaches Postgres with sslmode=verify-full
// against the stack's CA, and Kafka through its TLS + SASL/PLAIN listener; a wrong CA or password is a
// clear, non-retried error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Connector } from '../../../connector/src/connector.ts';
import { parseConnectorConfig } from '../../../connector/src/config.ts';
import { TracelakeError } from '../../../schemas/src/errors.ts';
import { connectorFixture, startConnector, testLog } from '../../support/connector.ts';
import { readTopic } from '../../support/kafka.ts';
import { stack } from '../../support/stack.ts';

/** A CA the stack's certificates are not signed with. */
function strangerCa(): string {
  const dir = mkdtempSync(`${tmpdir()}/tl-ca-`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=stranger',
    '-keyout', `${dir}/ca.key`, '-out', `${dir}/ca.crt`], { stdio: 'ignore' });
  return `${dir}/ca.crt`;
}

test('Postgres over TLS (verify-full) and Kafka over TLS + SASL: changes flow; every connection is encrypted', async (t) => {
  const fx = await connectorFixture('secure');
  t.after(() => fx.cleanup());
  await fx.db.query(`CREATE TABLE ${fx.schema}.t (id int PRIMARY KEY, v text)`);
  await fx.db.query(`INSERT INTO ${fx.schema}.t VALUES (1, 'snapshot')`);
  const sec = stack().secure;
  const url = `${stack().pgUrl}?sslmode=verify-full&sslrootcert=${encodeURIComponent(sec.caFile)}`;
  const base = fx.config({ url, tables: [`${fx.schema}.t`] });
  const cfg = { ...base, kafka: { ...base.kafka, brokers: sec.kafkaBrokers, ssl: { caFile: sec.caFile }, sasl: { mechanism: 'plain' as const, username: sec.saslUser, password: sec.saslPassword } } };
  const c = await startConnector(cfg);
  t.after(async () => { await c.connector.stop(); await c.done; });
  await fx.db.query(`INSERT INTO ${fx.schema}.t VALUES (2, 'streamed')`);
  const msgs = await readTopic(fx.topic('t'), (m) => m.length >= 2);
  assert.deepEqual(msgs.map((m) => m.key?.id), [1, 2]);
  const { rows } = await fx.db.query<{ application_name: string; ssl: boolean }>(
    `SELECT a.application_name, s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE a.application_name LIKE 'tracelake-%'`);
  const ours = rows.filter((r) => r.application_name === 'tracelake-connector');
  assert.ok(ours.length >= 2, 'the query and the replication connection');
  assert.ok(ours.every((r) => r.ssl), JSON.stringify(rows));
});

test('a Postgres certificate from an unknown CA, and a wrong Kafka password, stop the start with the fix', async (t) => {
  const fx = await connectorFixture('insecure');
  t.after(() => fx.cleanup());
  await fx.db.query(`CREATE TABLE ${fx.schema}.t (id int PRIMARY KEY)`);
  const sec = stack().secure;
  const wrongCa = fx.config({ url: `${stack().pgUrl}?sslmode=verify-full&sslrootcert=${encodeURIComponent(strangerCa())}`, tables: [`${fx.schema}.t`] });
  await assert.rejects(new Connector(parseConnectorConfig(wrongCa), testLog).run(), (e: unknown) =>
    e instanceof TracelakeError && e.code === 'PG_UNREACHABLE' && /sslrootcert/.test(e.remedy));
  const base = fx.config({ tables: [`${fx.schema}.t`] });
  const wrongPassword = { ...base, kafka: { ...base.kafka, brokers: sec.kafkaBrokers, ssl: { caFile: sec.caFile }, sasl: { mechanism: 'plain' as const, username: sec.saslUser, password: 'not-the-password' } } };
  await assert.rejects(new Connector(parseConnectorConfig(wrongPassword), testLog).run(), (e: unknown) =>
    e instanceof TracelakeError && e.code === 'KAFKA_AUTH' && !e.retriable && /kafka\.sasl/.test(e.remedy) && !e.message.includes('not-the-password'));
});
