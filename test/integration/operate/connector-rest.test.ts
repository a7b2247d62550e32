// The connector operated through its REST API, as a real process on the real stack: pause stops reading,
// resume continues with nothing lost, stop releases the slot, an offset reset while STOPPED makes the next
// start re-read everything, a table re-snapshot runs while streaming, and /metrics has the documented names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectorFixture } from '../../support/connector.ts';
import { spawnService } from '../../support/service-process.ts';
import { documentedMetrics, metricValue, topicSize } from '../../support/metrics.ts';
import { until, sleep } from '../../support/wait.ts';

const TOKEN = 'test-token-0123456789';

test('connector REST: pause, resume, stop, offsets reset, re-snapshot, metrics, SIGTERM', async (t) => {
  const fx = await connectorFixture('rest');
  t.after(() => fx.cleanup());
  const table = `${fx.schema}.t`;
  await fx.db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, v text)`);
  await fx.db.query(`INSERT INTO ${table} SELECT g, 'snap' FROM generate_series(1, 50) g`);
  const svc = spawnService('connector', { ...fx.config({ tables: [table] }), http: { host: '127.0.0.1', port: 0, token: TOKEN } });
  t.after(() => svc.stop());
  const topic = fx.topic('t');
  const status = async () => (await svc.call('GET', '/status')).body;
  await until('streaming', async () => (await status()).phase === 'STREAMING');
  await until('the snapshot in Kafka', async () => (await topicSize(topic)) === 50);
  assert.equal((await svc.call('GET', '/healthz')).status, 200);
  assert.equal((await svc.call('GET', '/readyz')).status, 200);

  // mutating calls need the token; bad requests get JSON errors
  const denied = await svc.call('PUT', '/pause');
  assert.equal(denied.status, 401);
  assert.match(denied.body.message, /Bearer/);
  assert.equal((await svc.call('GET', '/nope')).status, 404);
  assert.equal((await svc.call('POST', '/status', { token: TOKEN })).status, 405);
  assert.equal((await svc.call('DELETE', '/offsets', { token: TOKEN })).status, 409, 'offsets reset only while STOPPED');

  // pause: changes committed meanwhile are not read
  const paused = await svc.call('PUT', '/pause', { token: TOKEN });
  assert.equal(paused.status, 202);
  assert.equal(paused.body.connector.state, 'PAUSED');
  await fx.db.query(`INSERT INTO ${table} SELECT g, 'while paused' FROM generate_series(51, 80) g`);
  await sleep(3000);
  assert.equal(await topicSize(topic), 50, 'nothing read while PAUSED');
  const { rows: [held] } = await fx.db.query<{ active: boolean }>('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [fx.name]);
  assert.equal(held?.active, true, 'a paused connector keeps the slot (a standby cannot take it)');

  // resume: everything committed while paused arrives
  assert.equal((await svc.call('PUT', '/resume', { token: TOKEN })).body.connector.state, 'RUNNING');
  await until('the paused rows in Kafka', async () => (await topicSize(topic)) === 80);

  // re-snapshot one table while streaming
  const snap = await svc.call('POST', `/tables/${table}/snapshot`, { token: TOKEN });
  assert.equal(snap.status, 202);
  await until('the re-snapshot', async () => (await status()).tables[0].snapshot?.kind === 'requested' && (await status()).tables[0].snapshot?.state === 'DONE');
  assert.equal(await topicSize(topic), 160, 'every row read again as a snapshot event');
  assert.equal((await svc.call('POST', `/tables/${fx.schema}.nope/snapshot`, { token: TOKEN })).status, 404);

  // metrics: every documented name is exported, with live values
  const metrics = (await svc.call('GET', '/metrics')).body as string;
  for (const name of documentedMetrics('connector')) assert.ok(new RegExp(`^# HELP ${name} `, 'm').test(metrics), `${name} is exported`);
  const exported = [...metrics.matchAll(/^# HELP (tracelake_connector_\w+) /gm)].map((m) => m[1]!);
  assert.deepEqual(exported.filter((n) => !documentedMetrics('connector').includes(n)), [], 'every exported metric is documented');
  assert.equal(metricValue(metrics, `tracelake_connector_events_total{op="c",table="${table}"}`), 30);
  assert.equal(metricValue(metrics, `tracelake_connector_events_total{op="r",table="${table}"}`), 130);
  assert.equal(metricValue(metrics, 'tracelake_connector_state{state="RUNNING"}'), 1);
  assert.equal(metricValue(metrics, 'tracelake_connector_slot_wal_status{status="reserved"}'), 1);
  assert.ok(metricValue(metrics, 'tracelake_connector_milliseconds_behind_source_count')! >= 1);

  // stop: the slot is released and the position is visible
  const stopped = await svc.call('PUT', '/stop', { token: TOKEN });
  assert.equal(stopped.body.connector.state, 'STOPPED');
  const offsets = (await svc.call('GET', '/offsets')).body;
  assert.equal(offsets.slot.exists, true);
  assert.equal(offsets.slot.active_pid, null, 'a stopped connector releases the slot');
  assert.ok(offsets.snapshot?.snapshotLsn, 'the finished snapshot is recorded');
  assert.equal((await svc.call('PATCH', '/offsets', { token: TOKEN, body: { lsn: '0/1' } })).status, 400, 'a slot never moves backwards');
  // while STOPPED the slot holds WAL back, and /metrics says so
  await fx.db.query(`UPDATE ${table} SET v = 'while stopped'`);
  const whileStopped = (await svc.call('GET', '/metrics')).body as string;
  assert.ok(metricValue(whileStopped, 'tracelake_connector_slot_lag_bytes')! > 0, `slot lag reported while STOPPED: ${whileStopped.split('\n').filter((l) => l.startsWith('tracelake_connector_slot')).join('; ')}`);
  assert.equal(metricValue(whileStopped, 'tracelake_connector_slot_active'), 0);
  assert.equal(metricValue(whileStopped, 'tracelake_connector_state{state="STOPPED"}'), 1);

  // reset while STOPPED, then start: everything is read again
  const reset = await svc.call('DELETE', '/offsets', { token: TOKEN });
  assert.equal(reset.status, 200);
  assert.equal(reset.body.dropped, true);
  await fx.db.query(`UPDATE ${table} SET v = 'after reset' WHERE id = 1`);
  assert.equal((await svc.call('PUT', '/resume', { token: TOKEN })).body.connector.state, 'RUNNING');
  await until('the second snapshot', async () => (await topicSize(topic)) === 240);
  await until('streaming again', async () => (await status()).phase === 'STREAMING');

  // SIGTERM drains and exits 0
  svc.child.kill('SIGTERM');
  const exit = await svc.exited;
  assert.equal(exit.code, 0, svc.output().slice(-2000));
});
