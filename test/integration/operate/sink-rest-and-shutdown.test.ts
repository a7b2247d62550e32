// Both services as real processes under a steady write load: the sink paused and resumed, both SIGTERMed
// and restarted mid-load, then the sink stopped, its offsets reset and started again (it re-reads every
// change topic). Delta must equal Postgres row for row after each phase, and /metrics must carry every
// documented sink metric.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pipelineEnv } from '../../support/pipeline.ts';
import { sinkConfig } from '../../support/sink.ts';
import { spawnService, type ServiceProcess } from '../../support/service-process.ts';
import { compareTable } from '../../support/compare.ts';
import { documentedMetrics, metricValue, topicSize } from '../../support/metrics.ts';
import { until, sleep } from '../../support/wait.ts';

test('sink REST and graceful shutdown under load: nothing lost, replays idempotent', async (t) => {
  const { fx, wh, stops } = await pipelineEnv(t, 'ops');
  const table = `${fx.schema}.t`;
  await fx.db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, v text, n int NOT NULL DEFAULT 0)`);
  await fx.db.query(`INSERT INTO ${table} SELECT g, 'seed', 0 FROM generate_series(1, 200) g`);
  const connectorCfg = fx.config({ tables: [table] });
  const sinkCfg = sinkConfig(fx.name);
  const services: { connector: ServiceProcess; sink: ServiceProcess } = {
    connector: spawnService('connector', connectorCfg), sink: spawnService('sink', sinkCfg),
  };
  stops.push(async () => { await services.connector.stop(); }, async () => { await services.sink.stop(); });

  // a steady load: inserts, repeated updates and deletes, ~10 transactions/s
  let next = 1000;
  let loading = true;
  const load = (async () => {
    while (loading) {
      await fx.db.query(`BEGIN; INSERT INTO ${table} SELECT g, 'load', 0 FROM generate_series(${next}, ${next + 4}) g;
        UPDATE ${table} SET n = n + 1 WHERE id = ${1 + (next % 200)}; DELETE FROM ${table} WHERE id = ${next - 3}; COMMIT`);
      next += 5;
      await sleep(100);
    }
  })();
  const deltaCount = async () => Number((await wh.query<{ n: number }>(`SELECT count(*) AS n FROM ${fx.name}.t`))[0]!.n);
  const equal = async (what: string) => {
    let last: { rows: number; mismatches: string[] } = { rows: 0, mismatches: ['not compared'] };
    await until(what, async () => (last = await compareTable(fx.db, fx.schema, 't', wh, `${fx.name}.t`)).mismatches.length === 0, 120_000)
      .catch((err: Error) => { throw new Error(`${err.message}: ${last.mismatches.slice(0, 5).join('; ')}`); });
    return last.rows;
  };
  await until('rows in Delta', async () => (await deltaCount()) > 200);
  const state = async (r: { status: number; body: any }) => {
    if (!r.body?.connector) assert.fail(`a status answer, got ${r.status} ${JSON.stringify(r.body)}; sink: ${JSON.stringify((await services.sink.call('GET', '/status')).body)}`);
    return r.body.connector.state as string;
  };

  // pause: the sink reads nothing more while the load goes on; resume catches up
  assert.equal(await state(await services.sink.call('PUT', '/pause')), 'PAUSED');
  await sleep(1500); // a batch in hand is still merged
  const consumed = async () => metricValue((await services.sink.call('GET', '/metrics')).body, 'tracelake_sink_events_consumed_total')!;
  const before = await consumed();
  await sleep(3000);
  assert.equal(await consumed(), before, 'a paused sink consumes nothing');
  assert.ok((await topicSize(fx.topic('t'))) > before, 'while the topic grows');
  assert.equal(await state(await services.sink.call('PUT', '/resume')), 'RUNNING');
  await until('consumption resumes', async () => (await consumed()) > before);

  // SIGTERM each service mid-load: both drain and exit 0; fresh processes go on
  for (const kind of ['sink', 'connector'] as const) {
    services[kind].child.kill('SIGTERM');
    assert.equal((await services[kind].exited).code, 0, `${kind} exits 0 on SIGTERM:\n${services[kind].output().slice(-1500)}`);
    assert.match(services[kind].output(), /"msg":"stopping: draining what is in hand"/);
    await sleep(1000); // load continues while it is down
    services[kind] = spawnService(kind, kind === 'sink' ? sinkCfg : connectorCfg);
  }
  await sleep(2000);
  loading = false;
  await load;
  const rows = await equal('Delta equal to Postgres after both restarts');
  assert.ok(rows > 200, `${rows} rows compared`);

  const metrics = (await services.sink.call('GET', '/metrics')).body as string;
  for (const name of documentedMetrics('sink')) assert.ok(new RegExp(`^# HELP ${name} `, 'm').test(metrics), `${name} is exported`);
  const exported = [...metrics.matchAll(/^# HELP (tracelake_sink_\w+) /gm)].map((m) => m[1]!);
  assert.deepEqual(exported.filter((n) => !documentedMetrics('sink').includes(n)), [], 'every exported metric is documented');
  assert.ok(metricValue(metrics, `tracelake_sink_rows_merged_total{table="${table}"}`)! > 0);
  assert.ok(metricValue(metrics, 'tracelake_sink_freshness_seconds_count')! > 0);
  assert.equal(metricValue(metrics, `tracelake_sink_consumer_lag{topic="${fx.topic('t')}"}`), 0);

  // stop, reset the group's offsets, start again: the sink re-reads every change topic, Delta stays equal
  assert.equal((await services.sink.call('DELETE', '/offsets')).status, 409, 'a running sink keeps its offsets');
  assert.equal(await state(await services.sink.call('PUT', '/stop')), 'STOPPED');
  const offsets = (await services.sink.call('GET', '/offsets')).body;
  assert.ok(offsets.offsets.every((o: { lag: number }) => o.lag === 0), 'everything committed before the stop');
  const reset = await services.sink.call('DELETE', '/offsets');
  assert.equal(reset.status, 200, JSON.stringify(reset.body));
  assert.ok((await services.sink.call('GET', '/offsets')).body.offsets.every((o: { offset: string | null }) => o.offset === null));
  const consumedBefore = await consumed();
  const total = await topicSize(fx.topic('t'));
  assert.equal(await state(await services.sink.call('PUT', '/resume')), 'RUNNING');
  await until('the topic re-read', async () => (await consumed()) - consumedBefore >= total, 120_000);
  await equal('Delta still equal to Postgres after the replay');
});
