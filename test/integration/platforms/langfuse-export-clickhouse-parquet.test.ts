// Langfuse writes its Parquet exports with ClickHouse's own writer (`SELECT … FORMAT Parquet`, its export settings),
// not with pyarrow: here the stack's ClickHouse engine writes the enriched-observations file from Langfuse v4's
// events_full the way Langfuse's export query selects it, and the file lands in Delta and llm_spans byte for byte
// (compared with ClickHouse's own hashes of the values).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clickhouseFixture } from '../../support/clickhouse.ts';
import { exportPipeline, lfManifest } from '../../support/export-pipeline.ts';
import { HOSTILE_TEXTS, span } from '../../support/langfuse-rows.ts';
import { until } from '../../support/wait.ts';

/** the enriched-observations export's columns (default field groups), as Langfuse's export query names them */
const EXPORT_COLUMNS = `e.span_id AS id, e.trace_id, e.start_time, e.end_time, e.project_id, e.parent_span_id AS parent_observation_id, e.type,
  e.name, e.level, e.status_message, e.version, e.environment, e.bookmarked, e.public, e.user_id, e.session_id,
  e.parent_span_id = '' AS is_root_observation, e.completion_start_time, e.created_at, e.updated_at,
  mapFromArrays(e.metadata_names, e.metadata_values) AS metadata, e.provided_model_name, e.model_id, e.model_parameters,
  e.usage_details, e.cost_details, ifNull(e.total_cost, toDecimal64(0, 12)) AS total_cost, e.usage_pricing_tier_id, e.usage_pricing_tier_name,
  e.prompt_id, e.prompt_name, e.prompt_version, e.tool_definitions, e.tool_calls, e.tool_call_names, e.tags, e.release, e.trace_name,
  e.input, e.output`;
/** Langfuse's settings for Parquet exports (worker: BLOB_EXPORT_PARQUET_CLICKHOUSE_SETTINGS) */
const PARQUET_SETTINGS = {
  output_format_parquet_row_group_size: '1000000', output_format_parquet_row_group_size_bytes: String(128 << 20),
  max_block_size: '8192', output_format_parquet_batch_size: '16', output_format_parquet_max_dictionary_size: '0',
};

test('Langfuse export in ClickHouse\'s own Parquet: the enriched observations land in Delta and llm_spans byte for byte', async (t) => {
  const ep = await exportPipeline(t, 'lfxch', 'langfuse-export', 'lf/');
  const ch = await clickhouseFixture('lfxch', 'v4', ep.fx.name);
  t.after(() => ch.cleanup());
  const image = `data:image/png;base64,${Buffer.alloc(900_000, 5).toString('base64')}`;
  await ch.insert('events_full', [
    span({ trace: 'A', id: 'a-root', kind: 'SPAN', at: 0 }),
    span({ trace: 'A', id: 'a-gen', parent: 'a-root', at: 1, input: JSON.stringify({ messages: [{ role: 'user', content: [{ type: 'image_url', url: image }] }] }), usage: { input: 1200, output: 34 } }),
    span({ trace: 'A', id: 'a-err', parent: 'a-root', at: 2, level: 'ERROR', statusMessage: 'rate limited' }),
    ...HOSTILE_TEXTS.map((text, i) => span({ trace: 'H', id: `h-${i}`, at: 10 + i, input: text, output: text, metadata: { [text]: text } })),
  ]);
  const result = await ch.client.exec({
    query: `SELECT ${EXPORT_COLUMNS} FROM ${ch.database}.events_full e WHERE e.is_deleted = 0 FORMAT Parquet`, clickhouse_settings: PARQUET_SETTINGS,
  });
  const chunks: Buffer[] = [];
  for await (const c of result.stream) chunks.push(c as Buffer);
  const parquet = Buffer.concat(chunks);
  assert.equal(parquet.subarray(0, 4).toString(), 'PAR1', 'ClickHouse wrote Parquet');
  const stem = '2026-08-22T07-40-00';
  const key = `lf/p1/observations_v2/${stem}.parquet`;
  await ep.bucket.put(key, parquet);
  await ep.bucket.put(`lf/p1/manifests/${stem}.json`, lfManifest('lf/', stem, 'EVENTS', [{ key, table: 'observations_v2', fileType: 'PARQUET', compressed: false, rowCount: null }]));

  await ep.startConnector();
  await ep.startSink();
  type Row = Record<string, unknown>;
  const want = (await ch.rows<Row>(`SELECT span_id AS id, lower(hex(SHA256(input))) AS input_sha, lower(hex(SHA256(output))) AS output_sha,
      toString(usage_details['input']) AS tokens, toString(start_time) AS start FROM ${ch.database}.events_full ORDER BY id`))
    .map((r) => ({ ...r, tokens: Number(r.tokens), start: `${String(r.start).replace(' ', 'T')}` }));
  const mirror = async () => (await ep.wh.query<Row>(`SELECT id, sha2(input, 256) AS input_sha, sha2(output, 256) AS output_sha,
      CAST(get_json_object(usage_details, '$.input') AS BIGINT) AS tokens, date_format(start_time, "yyyy-MM-dd'T'HH:mm:ss.SSSSSS") AS start
      FROM ${ep.fx.name}.observations_v2 ORDER BY id`).catch(() => [])).map((r) => ({ ...r, tokens: Number(r.tokens) }));
  let got: Row[] = [];
  await until('the ClickHouse-written export in Delta', async () => JSON.stringify(got = await mirror()) === JSON.stringify(want), 90_000, 1000).catch(() => undefined);
  assert.deepEqual(got, want, 'every value as ClickHouse holds it, timestamps to the microsecond');

  const spans = new Map((await ep.wh.query<Row>(`SELECT * FROM ${ep.fx.name}.llm_spans`)).map((r) => [r.span_id as string, r]));
  assert.equal(spans.size, want.length);
  const g = spans.get('a-gen')!;
  assert.deepEqual([g.model, Number(g.prompt_tokens), Number(g.completion_tokens), Number(g.total_tokens), g.status], ['gpt-4o', 1200, 34, 1234, 'OK']);
  assert.ok(Math.abs(Number(g.cost_usd) - 0.0123) < 1e-9, String(g.cost_usd));
  assert.deepEqual([spans.get('a-err')!.status, spans.get('a-err')!.error_message], ['ERROR', 'rate limited']);
  assert.equal(spans.get('a-root')!.parent_span_id, null);
  for (const [i, text] of HOSTILE_TEXTS.entries()) {
    assert.equal(spans.get(`h-${i}`)!.output_text, text, `hostile text ${i}`);
    assert.deepEqual(JSON.parse(spans.get(`h-${i}`)!.metadata as string), { [text]: text }, `hostile metadata ${i}`);
  }
});
