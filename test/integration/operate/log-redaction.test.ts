// Secrets and row values never reach the logs: a whole pipeline runs at debug level with a password in
// the Postgres URL, the warehouse token and a REST token, over rows carrying a marker; then every line both
// services wrote is searched for them. Config errors are checked the same way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { pipelineEnv } from '../../support/pipeline.ts';
import { sinkConfig } from '../../support/sink.ts';
import { spawnService } from '../../support/service-process.ts';
import { compareTable } from '../../support/compare.ts';
import { stack } from '../../support/stack.ts';
import { until } from '../../support/wait.ts';

const PASSWORD = 'PW-MARK-9f3e77';
const PAYLOAD = 'PAYLOAD-MARK-c41d';
const REST_TOKEN = 'REST-MARK-5b20aa11';

test('no secret and no row value appears in any log line of a pipeline run', async (t) => {
  const { fx, wh, stops } = await pipelineEnv(t, 'redact');
  const table = `${fx.schema}.t`;
  await fx.db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, v text, doc jsonb)`);
  await fx.db.query(`INSERT INTO ${table} SELECT g, $1 || g, jsonb_build_object('secret', $1::text) FROM generate_series(1, 20) g`, [PAYLOAD]);
  const url = new URL(stack().pgUrl);
  url.password = PASSWORD;
  const base = fx.config({ tables: [table], url: url.toString() });
  const connector = spawnService('connector', { ...base, http: { host: '127.0.0.1', port: 0, token: REST_TOKEN } });
  const sink = spawnService('sink', { ...sinkConfig(fx.name), http: { host: '127.0.0.1', port: 0, token: REST_TOKEN } });
  stops.push(() => connector.stop(), () => sink.stop());
  await fx.db.query(`UPDATE ${table} SET v = v || '-updated' WHERE id <= 5`);
  await fx.db.query(`DELETE FROM ${table} WHERE id = 6`);
  await until('Delta equal to Postgres', async () => (await compareTable(fx.db, fx.schema, 't', wh, `${fx.name}.t`)).mismatches.length === 0, 90_000);
  // a denied call and a validation request with secrets in the body
  assert.equal((await connector.call('PUT', '/pause', { token: 'wrong-token-000000' })).status, 401);
  await connector.call('PUT', '/config/validate', { token: REST_TOKEN, body: { ...base, source: { ...base.source, tables: ['bad'] } } });
  await connector.stop();
  await sink.stop();

  const logs = connector.output() + sink.output();
  // not a vacuous search: both services logged, and at debug level (the sink logs each merged batch there)
  for (const component of ['connector', 'sink']) assert.match(logs, new RegExp(`"component":"${component}"`), `${component} logged`);
  assert.match(logs, /"level":20,.*"msg":"batch merged and committed"/, 'debug lines are in the logs');
  for (const secret of [PASSWORD, REST_TOKEN, stack().warehouse.token, PAYLOAD]) {
    const line = logs.split('\n').find((l) => l.includes(secret));
    assert.equal(line, undefined, `${secret} must not be logged; found in: ${line}`);
  }
});

test('a configuration error shows where the problem is, never the password', () => {
  const dir = mkdtempSync(`${tmpdir()}/tl-redact-`);
  writeFileSync(`${dir}/c.json`, JSON.stringify({
    source: { url: `postgres://app:${PASSWORD}@db/x`, tables: ['spans'] }, kafka: { brokers: ['k'] }, registry: { url: 'http://r' }, http: { token: 'short' },
  }));
  const cli = fileURLToPath(new URL('../../../cli/tracelake.ts', import.meta.url));
  const r = spawnSync(process.execPath, [cli, 'connector', '--config', `${dir}/c.json`], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /source\.tables\.0: write tables as schema\.table/);
  assert.match(r.stderr, /http\.token: use a token of at least 16 characters \(found: \[redacted\]\)/);
  assert.doesNotMatch(r.stderr + r.stdout, new RegExp(PASSWORD));
});
