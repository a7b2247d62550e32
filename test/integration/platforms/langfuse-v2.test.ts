// Langfuse v2's schema and write pattern: an observation is inserted, then upserted again and again with
// only end time, output, usage and cost — the large input stays untouched (TOASTed) and must survive in Delta.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startConnector } from '../../support/connector.ts';
import { pipelineEnv } from '../../support/pipeline.ts';
import { sinkConfig, startSink } from '../../support/sink.ts';
import { compareTable } from '../../support/compare.ts';
import { sleep } from '../../support/wait.ts';

test('Langfuse v2: repeated upserts that leave input untouched; tables equal Postgres; llm_spans from observations', async (t) => {
  const { fx, wh, stops } = await pipelineEnv(t, 'lf');
  const S = fx.schema;
  await fx.db.query(readFileSync(new URL('../../fixtures/langfuse-v2.sql', import.meta.url), 'utf8').replaceAll(':schema', S));
  await fx.db.query(`INSERT INTO ${S}.projects (id, name) VALUES ('p1', 'support-bot')`);

  const c = await startConnector(fx.config({ platform: 'langfuse', schema: S, heartbeatIntervalMs: 1000 }));
  stops.push(async () => { await c.connector.stop(); await c.done; });
  const s = await startSink({ ...sinkConfig(fx.name), platform: 'langfuse' });
  stops.push(async () => { await s.sink.stop(); await s.done; });

  // incompressible, so Postgres moves it out of line (TOAST) and later UPDATEs send it as unchanged
  const noise = Array.from({ length: 1500 }, (_, i) => ((i * 2654435761) % 4294967296).toString(36)).join('');
  const input = JSON.stringify({ messages: [{ role: 'user', content: `explain ${noise}` }] });
  for (let i = 0; i < 5; i++) {
    // the SDK's trace-create, then generation-create, then generation-update (EventProcessor upserts)
    await fx.db.query(`INSERT INTO ${S}.traces (id, name, project_id, user_id, session_id, tags) VALUES ($1, 'chat', 'p1', 'u1', 's1', '{prod,"a b"}')
      ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, updated_at = now()`, [`t${i}`]);
    await fx.db.query(`INSERT INTO ${S}.observations (id, trace_id, project_id, type, name, model, input, start_time, "modelParameters")
      VALUES ($1, $2, 'p1', 'GENERATION', 'llm-call', 'gpt-4o', $3, now(), '{"temperature": 0.2}')`, [`o${i}`, `t${i}`, input]);
    for (let u = 1; u <= 3; u++) {
      await fx.db.query(`INSERT INTO ${S}.observations (id, project_id, type, end_time, output, prompt_tokens, completion_tokens, total_tokens,
          calculated_total_cost, level, status_message)
        VALUES ($1, 'p1', 'GENERATION', now(), $2, 1200, $3, 1200 + $3, $4, $5, $6)
        ON CONFLICT (id) DO UPDATE SET end_time = EXCLUDED.end_time, output = EXCLUDED.output, prompt_tokens = EXCLUDED.prompt_tokens,
          completion_tokens = EXCLUDED.completion_tokens, total_tokens = EXCLUDED.total_tokens,
          calculated_total_cost = EXCLUDED.calculated_total_cost, level = EXCLUDED.level, status_message = EXCLUDED.status_message, updated_at = now()`,
        [`o${i}`, JSON.stringify(`answer ${i}.${u}`), 10 * u, `0.000123456789012345678901234567${u}`, i === 4 ? 'ERROR' : 'DEFAULT', i === 4 ? 'rate limited' : null]);
    }
    await fx.db.query(`INSERT INTO ${S}.scores (id, name, value, trace_id, observation_id, source, project_id) VALUES ($1, 'helpfulness', 0.8, $2, $3, 'API', 'p1')`, [`sc${i}`, `t${i}`, `o${i}`]);
  }

  // SCD2 edits of a dataset item (composite, versioned key), and a delete of one version
  await fx.db.query(`INSERT INTO ${S}.dataset_items (id, project_id, valid_from, dataset_id, input) VALUES
    ('d1', 'p1', '2026-01-01 00:00:00', 'ds', '{"q": "v1"}'), ('d2', 'p1', '2026-01-01 00:00:00', 'ds', '{"q": "x"}')`);
  await fx.db.query(`BEGIN; UPDATE ${S}.dataset_items SET valid_to = '2026-02-01' WHERE id = 'd1' AND valid_to IS NULL;
    INSERT INTO ${S}.dataset_items (id, project_id, valid_from, dataset_id, input) VALUES ('d1', 'p1', '2026-02-01', 'ds', '{"q": "v2"}'); COMMIT`);
  await fx.db.query(`DELETE FROM ${S}.dataset_items WHERE id = 'd2'`);

  let rows: Record<string, unknown>[] = [];
  for (let i = 0; i < 90; i++) {
    rows = await wh.query<Record<string, unknown>>(`SELECT * FROM ${fx.name}.llm_spans ORDER BY span_id`).catch(() => []);
    // each table merges in its own lane: the view's traces (session) may land a batch after its observations
    if (rows.length === 5 && rows.every((r) => String(r.output_text).includes('.3') && r.session_id === 's1')) break;
    await sleep(1000);
  }
  assert.equal(rows.length, 5);
  const storedInput = (await fx.db.query<{ i: string }>(`SELECT input::text AS i FROM ${S}.observations WHERE id = 'o0'`)).rows[0]!.i;
  for (const [i, r] of rows.entries()) {
    assert.ok(r.input_text === storedInput, `o${i}: the input survived three upserts that did not touch it`);
    assert.equal(r.output_text, JSON.stringify(`answer ${i}.3`));
    assert.equal(r.project, 'support-bot');
    assert.equal(r.span_kind, 'GENERATION');
    assert.equal(r.model, 'gpt-4o');
    assert.equal(Number(r.total_tokens), 1230);
    assert.equal(r.session_id, 's1');
    assert.equal(r.status, i === 4 ? 'ERROR' : 'OK');
    assert.ok(Math.abs(Number(r.cost_usd) - 0.000123456789) < 1e-9);
  }
  const problems: string[] = [];
  for (let i = 0; i < 30; i++) { // the dataset items may land in a later batch than the observations
    const n = await wh.query<{ n: number }>(`SELECT count(*) AS n FROM ${fx.name}.dataset_items WHERE NOT _deleted`).catch(() => [{ n: -1 }]);
    if (Number(n[0]!.n) === 2) break;
    await sleep(1000);
  }
  for (const table of ['projects', 'traces', 'observations', 'scores', 'dataset_items']) problems.push(...(await compareTable(fx.db, S, table, wh, `${fx.name}.${table}`)).mismatches);
  assert.deepEqual(problems, []);
  const [{ cost }] = await wh.query<{ cost: string }>(`SELECT calculated_total_cost AS cost FROM ${fx.name}.observations WHERE id = 'o1'`) as [{ cost: string }];
  assert.equal(cost, '0.000123456789012345678901234567', 'numeric(65,30) kept exactly (decimal string mode)');
});
