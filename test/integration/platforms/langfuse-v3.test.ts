// Langfuse v3 on the real stack: traces, observations and scores in ClickHouse, written as Langfuse v3 writes them
// (whole-row re-inserts with a later event_ts; trace deletion and retention by lightweight DELETE), land in Delta
// equal to `SELECT … FINAL`; llm_spans joins observations with traces (ClickHouse) and projects (Postgres).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { langfusePipeline } from '../../support/langfuse-pipeline.ts';
import type { ClickHouseFixture } from '../../support/clickhouse.ts';
import { until } from '../../support/wait.ts';
import { ms, observation3, score, trace3 } from '../../support/langfuse-rows.ts';
import type { Warehouse } from '../../../sink/src/warehouse/databricks-client.ts';

/** Each table's mirror (live rows) equals FINAL: ids and the columns that change. */
async function mirrorsEqualFinal(ch: ClickHouseFixture, wh: Warehouse, schema: string): Promise<string[]> {
  const problems: string[] = [];
  const checks: Array<[string, string, string]> = [
    ['traces', 'id, name, user_id, session_id', 'id, name, user_id, session_id'],
    ['observations', 'id, name, level, output, toString(usage_details[\'output\']) AS output_tokens', "id, name, level, output, get_json_object(usage_details, '$.output') AS output_tokens"],
    ['scores', 'id, toString(value) AS value', 'id, CAST(value AS STRING) AS value'],
  ];
  for (const [table, chCols, deltaCols] of checks) {
    const want = JSON.stringify(await ch.rows(`SELECT ${chCols} FROM ${ch.database}.${table} FINAL ORDER BY id`));
    const got = JSON.stringify((await wh.query(`SELECT ${deltaCols} FROM ${schema}.${table} WHERE NOT _deleted ORDER BY id`).catch(() => [])).map((r) => ({ ...r })));
    if (want !== got) problems.push(`${table}: FINAL ${want.slice(0, 300)} ≠ Delta ${got.slice(0, 300)}`);
  }
  return problems;
}

test('Langfuse v3: traces, observations and scores from ClickHouse equal FINAL in Delta, trace deletion and retention included; llm_spans', async (t) => {
  const lf = await langfusePipeline(t, 'lf3', 'v3');
  const { fx, wh, ch } = lf;
  // history older than the retention cut-off, already there at the first start (the snapshot)
  await ch.insert('traces', [trace3('old', -86_400 * 40)]);
  await ch.insert('observations', [observation3({ trace: 'old', id: 'old-gen', at: -86_400 * 40 })]);

  await lf.startConnector();
  await lf.startSink();

  for (const id of ['A', 'B', 'C']) {
    await ch.insert('traces', [trace3(id, 10)]);
    await ch.insert('observations', [
      observation3({ trace: id, id: `${id}-span`, kind: 'SPAN', at: 10 }),
      observation3({ trace: id, id: `${id}-gen`, parent: `${id}-span`, at: 11 }),
    ]);
    await ch.insert('scores', [score(`${id}-score`, id, `${id}-gen`, 12, 0.5)]);
  }
  // the generation ends and the trace gets its user: whole rows again with a later event_ts
  await ch.insert('observations', [observation3({ trace: 'B', id: 'B-gen', parent: 'B-span', at: 11, version: 30, output: 'final', usage: { input: 500, output: 77 }, level: 'ERROR', statusMessage: 'tool failed' })]);
  await ch.insert('traces', [trace3('B', 10, { version: 31, user: 'alice', session: 'sess-1' })]);
  // trace C deleted as Langfuse deletes a trace; retention drops what started before the cut-off
  await ch.exec(`DELETE FROM ${ch.database}.traces WHERE project_id = 'p1' AND id IN ('C') AND timestamp BETWEEN '${ms(0)}' AND '${ms(20)}'`);
  await ch.exec(`DELETE FROM ${ch.database}.observations WHERE project_id = 'p1' AND trace_id IN ('C') AND start_time BETWEEN '${ms(0)}' AND '${ms(20)}'`);
  await ch.exec(`DELETE FROM ${ch.database}.scores WHERE project_id = 'p1' AND trace_id IN ('C')`);
  await ch.exec(`DELETE FROM ${ch.database}.traces WHERE project_id = 'p1' AND timestamp < '${ms(-86_400 * 30)}'`);
  await ch.exec(`DELETE FROM ${ch.database}.observations WHERE project_id = 'p1' AND start_time < '${ms(-86_400 * 30)}'`);

  let problems: string[] = [];
  await until('the mirrors to equal FINAL', async () => (problems = await mirrorsEqualFinal(ch, wh, fx.name)).length === 0, 120_000, 1000).catch(() => undefined);
  assert.deepEqual(problems, []);
  const ids = (await ch.rows<{ id: string }>(`SELECT id FROM ${ch.database}.observations FINAL ORDER BY id`)).map((r) => r.id);
  assert.deepEqual(ids, ['A-gen', 'A-span', 'B-gen', 'B-span'], 'C and the old trace are gone from FINAL (and so from the mirror)');

  let spans: Array<Record<string, unknown>> = [];
  await until('llm_spans', async () => (spans = await wh.query(`SELECT * FROM ${fx.name}.llm_spans ORDER BY span_id`)).length === 4
    && spans.some((r) => r.user_id === 'alice'), 60_000, 1000).catch(() => undefined);
  assert.deepEqual(spans.map((r) => r.span_id), ids);
  const b = spans.find((r) => r.span_id === 'B-gen')!;
  assert.deepEqual(
    [b.project, b.span_kind, b.model, Number(b.prompt_tokens), Number(b.completion_tokens), Number(b.total_tokens), b.status, b.error_message, b.output_text, b.user_id, b.session_id, b.parent_span_id, b.trace_id],
    ['support-bot', 'GENERATION', 'gpt-4o', 500, 77, 577, 'ERROR', 'tool failed', 'final', 'alice', 'sess-1', 'B-span', 'B'],
  );
  assert.ok(Math.abs(Number(b.cost_usd) - 0.0123) < 1e-9);
  assert.equal(Number(b.latency_ms), 1500);
  assert.equal(spans.find((r) => r.span_id === 'A-gen')!.status, 'OK');
});
