// LangSmith's bulk export on the real stack: Parquet runs written by pyarrow in the export's v1 types under its
// Hive-style partitions (both path spellings), a run exported pending and again completed by a later export,
// a file whose columns changed and a corrupt file land in Delta (the corrupt one dead-lettered); llm_spans
// flattens runs into the shared contract.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { exportPipeline, langsmithRun } from '../../support/export-pipeline.ts';
import { HOSTILE_TEXTS } from '../../support/hostile-texts.ts';
import { sleep, until } from '../../support/wait.ts';

const sha = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const dir = (exportId: string, runs = 'runs', day = 'month=8/day=19') => `ls/export_id=${exportId}/tenant_id=t1/session_id=s1/${runs}/year=2026/${day}`;

test('LangSmith export: runs land once at their latest export, partition values become columns, llm_spans flattens runs; a corrupt file is dead-lettered', async (t) => {
  const ep = await exportPipeline(t, 'lsx', 'langsmith-export', 'ls/');
  const { bucket, wh, fx } = ep;
  const image = `data:image/jpeg;base64,${Buffer.alloc(1_200_000, 3).toString('base64')}`;
  const bigInputs = JSON.stringify({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: image } }, { type: 'text', text: HOSTILE_TEXTS.join('\n') }] }] });
  const first = [
    langsmithRun({ id: 'r-root', trace: 'r-root', runType: 'chain', at: 0, took: 10 }),
    langsmithRun({ id: 'r-llm', trace: 'r-root', parent: 'r-root', at: 1, took: null, inputs: bigInputs }),
    langsmithRun({ id: 'r-tool', trace: 'r-root', parent: 'r-root', runType: 'tool', at: 5, status: 'error', error: 'ToolException: timeout', outputs: null }),
    ...HOSTILE_TEXTS.map((text, i) => langsmithRun({ id: `h-${i}`, trace: 'h', at: 20 + i, inputs: JSON.stringify({ input: text }), outputs: text, tokens: [1, 1], cost: '0.000001000' })),
  ];
  await bucket.write([{ path: `${dir('e1')}/part-00000.parquet`, format: 'parquet', table: 'langsmith/runs', rows: first }]);
  await bucket.put('ls/tmp/destination-check.txt', 'ok');

  await ep.startConnector();
  await ep.startSink();

  await sleep(1100); // a later export is written later (the store's LastModified has whole seconds)
  const completed = langsmithRun({ id: 'r-llm', trace: 'r-root', parent: 'r-root', at: 1, took: 3.25, inputs: bigInputs, outputs: '{"generations":[{"text":"done"}]}', tokens: [900, 100], cost: '0.004500000' });
  await bucket.write([
    // a later export (new export_id, the newer path spelling) with the completed run and a column LangSmith added
    { path: `${dir('e2', 'resource=runs', 'month=08/day=19')}/0b1c.parquet`, format: 'parquet', codec: 'snappy', table: 'langsmith/runs',
      rows: [{ ...completed, thread_id_v2: 'x' }] },
    { path: `${dir('e3')}/corrupt.parquet`, format: 'parquet', table: 'langsmith/runs', rows: [langsmithRun({ id: 'never', trace: 'never', at: 50 })], truncate: 300 },
  ]);

  type Row = Record<string, unknown>;
  const want = [...first.filter((r) => r.id !== 'r-llm'), completed].map((r) => ({ id: r.id, status: r.status, outputs: r.outputs, inputs_sha: sha(r.inputs as string) }))
    .sort((a, b) => (String(a.id) < String(b.id) ? -1 : 1));
  const mirror = async () => (await wh.query<Row>(`SELECT id, status, outputs, sha2(inputs, 256) AS inputs_sha FROM ${fx.name}.runs WHERE NOT _deleted ORDER BY id`).catch(() => []))
    .map((r) => ({ ...r }));
  let got: Row[] = [];
  await until('runs in Delta to equal the latest export of each run', async () => JSON.stringify(got = await mirror()) === JSON.stringify(want), 120_000, 1000).catch(() => undefined);
  assert.deepEqual(got, want, 'each run once, at its latest export, inputs byte for byte');
  const [extra] = await wh.query<Row>(`SELECT export_id, tenant_id, thread_id_v2, tags FROM ${fx.name}.runs WHERE id = 'r-llm'`);
  assert.deepEqual({ ...extra, tags: [...(extra!.tags as string[])] }, { export_id: 'e2', tenant_id: 't1', thread_id_v2: 'x', tags: ['prod', 'v2'] },
    'partition values as columns; a new column flows; tags as an array');

  const spans = await wh.query<Row>(`SELECT * FROM ${fx.name}.llm_spans ORDER BY span_id`);
  assert.deepEqual(spans.map((r) => r.span_id), want.map((r) => r.id));
  const byId = new Map(spans.map((r) => [r.span_id as string, r]));
  const llm = byId.get('r-llm')!;
  assert.deepEqual([llm.trace_id, llm.parent_span_id, llm.span_kind, llm.project], ['r-root', 'r-root', 'llm', 's1']);
  assert.equal(llm.model, 'claude-sonnet-4');
  assert.deepEqual([Number(llm.prompt_tokens), Number(llm.completion_tokens), Number(llm.total_tokens)], [900, 100, 1000]);
  assert.ok(Math.abs(Number(llm.cost_usd) - 0.0045) < 1e-12, String(llm.cost_usd));
  assert.equal(Number(llm.latency_ms), 3250);
  assert.deepEqual([llm.status, llm.session_id, llm.user_id], ['OK', 'thread-r-root', 'user-r-root']);
  assert.equal(sha(llm.input_text as string), sha(bigInputs));
  assert.deepEqual([byId.get('r-tool')!.status, byId.get('r-tool')!.error_message, byId.get('r-tool')!.span_kind], ['ERROR', 'ToolException: timeout', 'tool']);
  assert.equal(byId.get('r-root')!.parent_span_id, null);
  for (const [i, text] of HOSTILE_TEXTS.entries()) assert.equal(byId.get(`h-${i}`)!.output_text, text, `hostile text ${i} arrives unchanged`);

  const status = ep.connectorStatus();
  assert.deepEqual(status.find((x) => x.table === 'langsmith_export.runs')?.rejectedFiles?.map((r) => [r.file, r.code]), [[`${dir('e3')}/corrupt.parquet`, 'FILE_UNREADABLE']]);
});
