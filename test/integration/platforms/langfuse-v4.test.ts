// Langfuse v4 on the real stack: traces written to ClickHouse's events_full the way Langfuse writes them
// (async inserts of whole rows, re-inserts with a later event_ts, ALTER UPDATE of bookmarked, lightweight DELETE of a
// trace) land in Delta equal to what `SELECT … FINAL` returns, and llm_spans shows them with the shared contract.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { langfusePipeline } from '../../support/langfuse-pipeline.ts';
import { until } from '../../support/wait.ts';
import { HOSTILE_TEXTS, score, span, ts } from '../../support/langfuse-rows.ts';
import { startConnector } from '../../support/connector.ts';

const sha = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

test('Langfuse v4: events_full and scores from ClickHouse equal FINAL in Delta; deletes, late versions and mutations followed; llm_spans', async (t) => {
  const lf = await langfusePipeline(t, 'lf4', 'v4');
  const { fx, wh, ch } = lf;

  // before the connector starts: read by its first poll (a snapshot)
  await ch.insert('events_full', [span({ trace: 'A', id: 'a-root', kind: 'SPAN', at: 0 }), span({ trace: 'A', id: 'a-gen', parent: 'a-root', at: 1 })]);

  await lf.startConnector();
  await lf.startSink();

  // a 2 MB prompt with an image data URL, and every hostile text in input, output, names and metadata
  const image = `data:image/png;base64,${Buffer.alloc(1_500_000, 7).toString('base64')}`;
  const genInput = JSON.stringify({ messages: [{ role: 'user', content: [{ type: 'image_url', url: image }] }] });
  const rows = [
    span({ trace: 'B', id: 'b-root', kind: 'SPAN', at: 10 }),
    span({ trace: 'B', id: 'b-gen', parent: 'b-root', at: 11, input: genInput }),
    span({ trace: 'B', id: 'b-tool', parent: 'b-gen', kind: 'TOOL', at: 12, output: '{"weather": "rain"}' }),
    span({ trace: 'B', id: 'b-err', parent: 'b-root', kind: 'GENERATION', at: 13, level: 'ERROR', statusMessage: 'rate limited' }),
    ...HOSTILE_TEXTS.map((text, i) => span({ trace: 'C', id: `c-${i}`, at: 20 + i, input: text, output: text, name: text, metadata: { [text]: text } })),
  ];
  await ch.insert('events_full', rows);
  await ch.insert('scores', [score('sc1', 'B', 'b-gen', 11, 0.8)]);
  // the generation ends: the whole row again with a later event_ts; then a stale version (an old retried batch) and a tie
  await ch.insert('events_full', [span({ trace: 'B', id: 'b-gen', parent: 'b-root', at: 11, version: 100, input: genInput, output: 'final answer', usage: { input: 1200, output: 34 } })]);
  await ch.insert('events_full', [span({ trace: 'B', id: 'b-gen', parent: 'b-root', at: 11, version: 50, input: genInput, output: 'stale retry' })]);
  await ch.insert('events_full', [span({ trace: 'B', id: 'b-tool', parent: 'b-gen', kind: 'TOOL', at: 12, version: 100, output: 'tie: first' })]);
  await ch.insert('events_full', [span({ trace: 'B', id: 'b-tool', parent: 'b-gen', kind: 'TOOL', at: 12, version: 100, output: 'tie: second' })]);
  // a version marked deleted, a bookmark (in place, event_ts unchanged), and trace A deleted as Langfuse deletes traces
  await ch.insert('events_full', [span({ trace: 'B', id: 'b-err', parent: 'b-root', kind: 'GENERATION', at: 13, version: 200, deleted: true })]);
  await ch.exec(`ALTER TABLE ${ch.database}.events_full UPDATE bookmarked = true WHERE project_id = 'p1' AND trace_id = 'B' SETTINGS mutations_sync = 1`);
  await ch.exec(`DELETE FROM ${ch.database}.events_full WHERE project_id = 'p1' AND trace_id IN ('A')`);

  const finalQuery = `SELECT span_id, name, level, output, toString(length(input)) AS input_bytes, lower(hex(SHA256(input))) AS input_sha, bookmarked,
      usage_details['input'] AS input_tokens FROM ${ch.database}.events_full FINAL ORDER BY span_id`;
  type Row = Record<string, unknown>;
  const expected: Row[] = (await ch.rows<Row>(finalQuery)).map((r) => ({ ...r, input_tokens: Number(r.input_tokens), input_bytes: Number(r.input_bytes) }));
  assert.deepEqual(expected.map((r) => r.span_id), ['b-gen', 'b-root', 'b-tool', ...HOSTILE_TEXTS.map((_, i) => `c-${i}`)].sort());
  const mirror = async (): Promise<Row[]> => (await wh.query<Row>(
    `SELECT span_id, name, level, output, octet_length(input) AS input_bytes, sha2(input, 256) AS input_sha, bookmarked,
       CAST(get_json_object(usage_details, '$.input') AS BIGINT) AS input_tokens
     FROM ${fx.name}.events_full WHERE NOT _deleted ORDER BY span_id`).catch(() => []))
    .map((r) => ({ ...r, input_tokens: Number(r.input_tokens), input_bytes: Number(r.input_bytes) }));
  let got: Row[] = [];
  await until('the mirror to equal FINAL', async () => { got = await mirror(); return JSON.stringify(got) === JSON.stringify(expected); }, 120_000, 1000).catch(() => undefined);
  assert.deepEqual(got, expected, 'the Delta mirror equals FINAL');
  const gen = got.find((r) => r.span_id === 'b-gen')!;
  assert.equal(gen.output, 'final answer', 'the highest event_ts wins over a later-inserted stale version');
  assert.equal(got.find((r) => r.span_id === 'b-tool')!.output, 'tie: second', 'equal versions: the later insert wins, as in FINAL');
  assert.equal(gen.bookmarked, true, 'the ALTER UPDATE reached the mirror');
  assert.equal(gen.input_sha, sha(genInput), 'the 2 MB prompt arrived byte for byte');

  const spans = await wh.query<Record<string, unknown>>(`SELECT * FROM ${fx.name}.llm_spans ORDER BY span_id`);
  assert.deepEqual(spans.map((r) => r.span_id), expected.map((r) => r.span_id));
  const byId = new Map(spans.map((r) => [r.span_id as string, r]));
  const g = byId.get('b-gen')!;
  assert.equal(g.project, 'support-bot');
  assert.equal(g.model, 'gpt-4o');
  assert.equal(Number(g.prompt_tokens), 1200);
  assert.equal(Number(g.completion_tokens), 34);
  assert.equal(Number(g.total_tokens), 1234);
  assert.ok(Math.abs(Number(g.cost_usd) - 0.0123) < 1e-9);
  assert.equal(g.status, 'OK');
  assert.equal(g.session_id, 'session-B');
  assert.equal(g.user_id, 'user-B');
  assert.equal(g.parent_span_id, 'b-root');
  assert.equal(byId.get('b-root')!.parent_span_id, null);
  for (const [i, text] of HOSTILE_TEXTS.entries()) {
    const r = byId.get(`c-${i}`)!;
    assert.ok(r.input_text === text && r.output_text === text && r.name === text, `hostile text ${i} arrived unchanged`);
    assert.deepEqual(JSON.parse(r.metadata as string), { [text]: text });
  }
  const scores = await wh.query<{ id: string; value: number }>(`SELECT id, value FROM ${fx.name}.scores WHERE NOT _deleted`);
  assert.deepEqual(scores.map((r) => [r.id, Number(r.value)]), [['sc1', 0.8]]);
});

test('Langfuse v4: deletes made while the connector was down, whose rows ClickHouse merged away, still leave the mirror (scoped truncates)', async (t) => {
  const lf = await langfusePipeline(t, 'lf4del', 'v4');
  const { fx, wh, ch } = lf;
  const keep = [span({ trace: 'K', id: 'k-root', kind: 'SPAN', at: 0 }), span({ trace: 'K', id: 'k-gen', parent: 'k-root', at: 1 })];
  const doomed = ['D1', 'D2'].flatMap((tr) => [span({ trace: tr, id: `${tr}-root`, kind: 'SPAN', at: 2 }), span({ trace: tr, id: `${tr}-gen`, parent: `${tr}-root`, at: 3, input: 'prompt ${x}' })]);
  const old = [span({ trace: 'OLD', id: 'old-root', kind: 'SPAN', at: -86_400 * 40 })];
  await ch.insert('events_full', [...keep, ...doomed, ...old]);
  const first = await startConnector(lf.connectorConfig);
  await lf.startSink();
  const live = async () => (await wh.query<{ span_id: string }>(`SELECT span_id FROM ${fx.name}.events_full WHERE NOT _deleted ORDER BY span_id`).catch(() => [])).map((r) => r.span_id);
  await until('every span in Delta', async () => (await live()).length === 7, 90_000, 1000);
  // a later version alone in its poll (and so in its sink batch): an update of a row the mirror has, not an insert
  await ch.insert('events_full', [span({ trace: 'K', id: 'k-gen', parent: 'k-root', at: 1, version: 100, output: 'updated alone' })]);
  const output = async () => (await wh.query<{ output: string }>(`SELECT output FROM ${fx.name}.events_full WHERE span_id = 'k-gen'`))[0]?.output;
  await until('the later version in Delta', async () => (await output()) === 'updated alone', 60_000, 1000).catch(() => undefined);
  assert.equal(await output(), 'updated alone');
  await first.connector.stop();
  await first.done;
  // while it is down: a trace deletion with query parameters (as Langfuse sends it), a retention delete, then a
  // merge that drops the masked rows for good — the source cannot read their keys any more
  await ch.client.command({
    query: `DELETE FROM ${ch.database}.events_full WHERE project_id = {p: String} AND trace_id IN {ids: Array(String)}`,
    query_params: { p: 'p1', ids: ['D1', 'D2'] },
  });
  await ch.exec(`DELETE FROM ${ch.database}.events_full WHERE project_id = 'p1' AND start_time < '${ts(-86_400 * 30)}'`);
  await ch.exec(`OPTIMIZE TABLE ${ch.database}.events_full FINAL`);
  const masked = await ch.rows(`SELECT span_id FROM ${ch.database}.events_full WHERE _row_exists = 0 SETTINGS apply_deleted_mask = 0`);
  assert.deepEqual(masked, [], 'the merge dropped the deleted rows physically');
  const second = await startConnector(lf.connectorConfig);
  t.after(async () => { await second.connector.stop(); await second.done; });
  let got: string[] = [];
  await until('the deleted traces to leave the mirror', async () => (got = await live()).length === 2, 90_000, 1000).catch(() => undefined);
  assert.deepEqual(got, ['k-gen', 'k-root']);
  const final = (await ch.rows<{ span_id: string }>(`SELECT span_id FROM ${ch.database}.events_full FINAL ORDER BY span_id`)).map((r) => r.span_id);
  assert.deepEqual(got, final, 'the mirror equals FINAL');
});
