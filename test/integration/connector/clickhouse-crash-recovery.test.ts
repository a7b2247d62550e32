// kill -9 of a connector capturing ClickHouse in the middle of its polls; after a restart the Delta mirror equals
// FINAL: nothing lost (what was read and not yet committed is read again) and nothing duplicated (the same rows
// again carry the same positions).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { langfusePipeline } from '../../support/langfuse-pipeline.ts';
import { spawnService } from '../../support/service-process.ts';
import { span } from '../../support/langfuse-rows.ts';
import { sleep, until } from '../../support/wait.ts';

test('ClickHouse source killed mid-poll: after the restart the mirror equals FINAL, no row lost or doubled', async (t) => {
  const lf = await langfusePipeline(t, 'chkill', 'v4');
  const { ch, wh, fx } = lf;
  const first = spawnService('connector', lf.connectorConfig, { TRACELAKE_FAULTS: 'clickhouse-part-read:8' });
  t.after(() => first.stop());
  await first.waitForLog(/capturing ClickHouse tables/);
  await lf.startSink(); // once the change topics exist

  let dead = false;
  void first.exited.then(() => (dead = true));
  let batch = 0;
  const write = async () => {
    const b = batch++;
    // a new trace per batch, and the end of the previous batch's generation (a later version)
    await ch.insert('events_full', [
      span({ trace: `T${b}`, id: `T${b}-root`, kind: 'SPAN', at: b }), span({ trace: `T${b}`, id: `T${b}-gen`, parent: `T${b}-root`, at: b }),
      ...(b > 0 ? [span({ trace: `T${b - 1}`, id: `T${b - 1}-gen`, parent: `T${b - 1}-root`, at: b - 1, version: 60, output: `final ${b - 1}` })] : []),
    ]);
  };
  while (!dead && batch < 200) {
    await write();
    await sleep(100);
  }
  const died = await first.exited;
  assert.equal(died.signal, 'SIGKILL', 'the fault point killed the process mid-poll');
  // while it is down: more traces, and one trace deleted
  for (let i = 0; i < 5; i++) await write();
  await ch.exec(`DELETE FROM ${ch.database}.events_full WHERE project_id = 'p1' AND trace_id = 'T1'`);

  const second = spawnService('connector', lf.connectorConfig);
  t.after(() => second.stop());
  const finalRows = async () => JSON.stringify(await ch.rows(`SELECT span_id, output FROM ${ch.database}.events_full FINAL ORDER BY span_id`));
  const mirror = async () => JSON.stringify((await wh.query(`SELECT span_id, output FROM ${fx.name}.events_full WHERE NOT _deleted ORDER BY span_id`).catch(() => [])).map((r) => ({ ...r })));
  const want = await finalRows();
  let got = '';
  await until('the mirror to equal FINAL after the restart', async () => (got = await mirror()) === want, 90_000, 1000).catch(() => undefined);
  assert.equal(got, want);
  const [{ n, keys }] = await wh.query<{ n: number; keys: number }>(`SELECT count(*) AS n, count(DISTINCT span_id) AS keys FROM ${fx.name}.events_full`) as [{ n: number; keys: number }];
  assert.equal(Number(n), Number(keys), 'one Delta row per span: nothing doubled');
  assert.ok(batch > 5, `written ${batch} batches`);
  // REST shows the source's position: what is taken per partition, the mutations followed
  const offsets = (await second.call('GET', '/offsets')).body;
  const state = offsets.clickhouse.tables[`${ch.database}.events_full`];
  assert.ok(Object.keys(state.taken).length > 0 && state.mutations.length >= 1, JSON.stringify(offsets.clickhouse));
  const metrics = await (await fetch(`${await second.restUrl()}/metrics`)).text();
  assert.match(metrics, /tracelake_connector_source_last_poll_rows_read\{table="[^"]+\.events_full"\} \d+/);
  assert.match(metrics, /tracelake_connector_reconciliation_deletes_total\{table="[^"]+\.events_full"\} [1-9]/, 'the trace deleted while it was down');
});
