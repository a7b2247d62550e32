// Langfuse's blob-storage export on the real stack (SeaweedFS, Kafka, registry, Spark/Delta): export runs of
// every format written by real writers (pyarrow Parquet as ClickHouse types it, gzip JSONL, CSV in Langfuse's
// dialect, JSON) with both export sources at once, an empty file, a window overlap with duplicate ids and a later
// export of an updated id land in Delta deduplicated; llm_spans shows the enriched observations with the shared
// contract; bad files (truncated, listed but missing, an unreadable manifest) go to the dead-letter topic, are
// reported in REST status and metrics, and the rest flows — a new column included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { exportPipeline, lfManifest, observationLegacy, observationV2, scoreRow, traceRow } from '../../support/export-pipeline.ts';
import type { ExportFileSpec } from '../../support/object-store.ts';
import { spawnService } from '../../support/service-process.ts';
import { readRawRecords } from '../../support/kafka.ts';
import { HOSTILE_TEXTS } from '../../support/hostile-texts.ts';
import { until } from '../../support/wait.ts';

const sha = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const P = 'lf/';
const key = (table: string, stem: string, ext: string) => `${P}p1/${table}/${stem}.${ext}`;
const manifestKey = (stem: string) => `${P}p1/manifests/${stem}.json`;
const FILE_TYPE = { parquet: 'PARQUET', csv: 'CSV', json: 'JSON', jsonl: 'JSONL' } as const;

/** uploads a run's files, then its manifest (Langfuse writes it last) */
async function exportRun(b: { write(f: ExportFileSpec[]): Promise<void>; put(k: string, body: string): Promise<void> }, stem: string, source: string,
  files: ExportFileSpec[], opts: { missing?: ExportFileSpec[] } = {}): Promise<void> {
  await b.write(files);
  const listed = [...files, ...(opts.missing ?? [])].map((f) => ({
    key: f.path, table: f.table.split('/')[1]!, fileType: FILE_TYPE[f.format], compressed: f.gzip === true, rowCount: f.format === 'parquet' ? null : f.rows.length,
  }));
  await b.put(manifestKey(stem), lfManifest(P, stem, source, listed));
}

test('Langfuse export: every format, both export sources, overlaps and late updates land deduplicated; llm_spans; bad files dead-lettered while the rest flows', async (t) => {
  const ep = await exportPipeline(t, 'lfx', 'langfuse-export', P);
  const { bucket, wh, fx } = ep;

  const image = `data:image/png;base64,${Buffer.alloc(1_500_000, 9).toString('base64')}`;
  const bigInput = JSON.stringify({ messages: [{ role: 'user', content: [{ type: 'text', text: HOSTILE_TEXTS.join(' | ') }, { type: 'image_url', url: image }] }] });
  const v2First: Array<Record<string, unknown>> = [
    observationV2({ id: 'a-root', trace: 'A', type: 'SPAN', at: 0 }),
    observationV2({ id: 'a-gen', trace: 'A', parent: 'a-root', at: 1, input: bigInput, usage: { input: 1200, output: 34, total: 1234 }, cost: 0.0123 }),
    observationV2({ id: 'b-gen', trace: 'B', at: 2, level: 'ERROR', statusMessage: 'rate limited' }),
    ...HOSTILE_TEXTS.map((text, i) => ({ ...observationV2({ id: `h-${i}`, trace: 'H', at: 3 + i, input: text, output: text }), metadata: { [text]: text } })),
  ];
  const S1 = '2026-08-22T07-40-00';
  // run 1: both export sources; Parquet, gzip JSONL, gzip CSV, and an empty scores file
  await exportRun(bucket, S1, 'TRACES_OBSERVATIONS_EVENTS', [
    { path: key('scores', S1, 'csv.gz'), format: 'csv', gzip: true, table: 'langfuse/scores', rows: [] },
    { path: key('traces', S1, 'jsonl.gz'), format: 'jsonl', gzip: true, table: 'langfuse/traces', rows: [traceRow('A', 0), traceRow('B', 2)] },
    { path: key('observations', S1, 'csv.gz'), format: 'csv', gzip: true, table: 'langfuse/observations',
      rows: [observationLegacy({ id: 'a-gen', trace: 'A', parent: 'a-root', at: 1, input: HOSTILE_TEXTS.join('\n') }), observationLegacy({ id: 'b-gen', trace: 'B', at: 2 })] },
    { path: key('observations_v2', S1, 'parquet'), format: 'parquet', table: 'langfuse/observations_v2', rows: v2First },
  ]);

  const connector = spawnService('connector', ep.connectorConfig);
  t.after(() => connector.stop());
  await connector.waitForLog(/capturing exported files/, 60_000);
  await ep.startSink();

  // run 2 (the window overlaps run 1's end): b-gen again unchanged, a-gen exported again after an update; JSON and plain CSV
  const S2 = '2026-08-22T08-00-00';
  const aGenUpdated = { ...observationV2({ id: 'a-gen', trace: 'A', parent: 'a-root', at: 1, updated: 100, input: bigInput, output: 'final answer', usage: { input: 1200, output: 34, total: 1234 }, cost: 0.0123 }) };
  await exportRun(bucket, S2, 'TRACES_OBSERVATIONS_EVENTS', [
    { path: key('scores', S2, 'jsonl.gz'), format: 'jsonl', gzip: true, table: 'langfuse/scores', rows: [scoreRow('s1', 'A', 'a-gen', 90, 0.8)] },
    { path: key('traces', S2, 'jsonl'), format: 'jsonl', table: 'langfuse/traces', rows: [traceRow('B', 2)] },
    { path: key('observations', S2, 'csv'), format: 'csv', table: 'langfuse/observations', rows: [observationLegacy({ id: 'a-gen', trace: 'A', parent: 'a-root', at: 1, updated: 100, output: 'final answer' })] },
    { path: key('observations_v2', S2, 'json'), format: 'json', table: 'langfuse/observations_v2', rows: [v2First[2]!, aGenUpdated] },
  ]);
  // run 3: a truncated Parquet file, a file the manifest lists that never arrived, and scores with a new column
  const S3 = '2026-08-22T08-20-00';
  await exportRun(bucket, S3, 'TRACES_OBSERVATIONS_EVENTS', [
    { path: key('scores', S3, 'jsonl'), format: 'jsonl', table: 'langfuse/scores', rows: [{ ...scoreRow('s2', 'B', null, 95, 0.1), reviewer: 'ann' }] },
    { path: key('observations_v2', S3, 'parquet'), format: 'parquet', table: 'langfuse/observations_v2', rows: [observationV2({ id: 'lost', trace: 'L', at: 99 })], truncate: 200 },
  ], { missing: [{ path: key('traces', S3, 'jsonl'), format: 'jsonl', table: 'langfuse/traces', rows: [traceRow('never', 99)] }] });
  // and a manifest that is not JSON (a partial upload)
  await bucket.put(manifestKey('2026-08-22T08-40-00'), '{"version": 1, "files": [');

  // expected: the latest version of each id (updated_at, then the later run)
  const expectedV2 = new Map<string, Record<string, unknown>>();
  for (const r of [...v2First, v2First[2]!, aGenUpdated]) expectedV2.set(r.id as string, r);
  type Row = Record<string, unknown>;
  const want = [...expectedV2.values()].map((r) => ({ id: r.id, output: r.output, input_bytes: Buffer.byteLength(r.input as string), input_sha: sha(r.input as string) }))
    .sort((a, b) => (String(a.id) < String(b.id) ? -1 : 1));
  const mirror = async (): Promise<Row[]> => (await wh.query<Row>(
    `SELECT id, output, octet_length(input) AS input_bytes, sha2(input, 256) AS input_sha FROM ${fx.name}.observations_v2 WHERE NOT _deleted ORDER BY id`).catch(() => []))
    .map((r) => ({ ...r, input_bytes: Number(r.input_bytes) }));
  let got: Row[] = [];
  await until('observations_v2 in Delta to equal the deduplicated export', async () => JSON.stringify(got = await mirror()) === JSON.stringify(want), 180_000, 1000).catch(() => undefined);
  assert.deepEqual(got, want, 'the Delta mirror holds each exported observation once, at its latest version, byte for byte');
  const count = async (table: string) => Number((await wh.query<{ n: number }>(`SELECT count(*) AS n FROM ${fx.name}.${table}`))[0]!.n);
  assert.equal(await count('observations_v2'), want.length, 'no duplicate rows from overlapping windows');

  await until('traces, legacy observations and scores', async () => {
    const scores = await wh.query<Row>(`SELECT id, value, reviewer FROM ${fx.name}.scores ORDER BY id`).catch(() => []);
    return scores.length === 2;
  }, 60_000, 1000);
  assert.deepEqual((await wh.query<Row>(`SELECT id, user_id FROM ${fx.name}.traces ORDER BY id`)).map((r) => ({ ...r })), [{ id: 'A', user_id: 'user-A' }, { id: 'B', user_id: 'user-B' }]);
  const legacy = (await wh.query<Row>(`SELECT id, input, output, CAST(get_json_object(usage_details, '$.input') AS BIGINT) AS tokens FROM ${fx.name}.observations ORDER BY id`)).map((r) => ({ ...r }));
  assert.deepEqual(legacy.map((r) => [r.id, r.output, Number(r.tokens)]), [['a-gen', 'final answer', 100], ['b-gen', '"hello"', 100]]);
  assert.equal(legacy[0]!.input, '{"question":"hi"}', 'the later export (run 2) replaced run 1\'s row');
  const scores = (await wh.query<Row>(`SELECT id, value, reviewer FROM ${fx.name}.scores ORDER BY id`)).map((r) => ({ ...r, value: Number(r.value) }));
  assert.deepEqual(scores, [{ id: 's1', value: 0.8, reviewer: null }, { id: 's2', value: 0.1, reviewer: 'ann' }], 'a new column flows as schema evolution');

  // llm_spans: the enriched observations with the shared contract
  const spans = await wh.query<Row>(`SELECT * FROM ${fx.name}.llm_spans ORDER BY span_id`);
  assert.deepEqual(spans.map((r) => r.span_id), want.map((r) => r.id));
  const byId = new Map(spans.map((r) => [r.span_id as string, r]));
  const g = byId.get('a-gen')!;
  assert.equal(g.trace_id, 'A');
  assert.equal(g.parent_span_id, 'a-root');
  assert.equal(byId.get('a-root')!.parent_span_id, null);
  assert.equal(g.model, 'gpt-4o');
  assert.deepEqual([Number(g.prompt_tokens), Number(g.completion_tokens), Number(g.total_tokens)], [1200, 34, 1234]);
  assert.ok(Math.abs(Number(g.cost_usd) - 0.0123) < 1e-9, String(g.cost_usd));
  assert.equal(Number(g.latency_ms), 1500);
  assert.equal(g.status, 'OK');
  assert.equal(g.output_text, 'final answer');
  assert.equal(sha(g.input_text as string), sha(bigInput));
  assert.equal(g.session_id, 'session-A');
  assert.equal(g.user_id, 'user-A');
  assert.deepEqual([byId.get('b-gen')!.status, byId.get('b-gen')!.error_message], ['ERROR', 'rate limited']);
  for (const [i, text] of HOSTILE_TEXTS.entries()) {
    const h = byId.get(`h-${i}`)!;
    assert.equal(h.input_text, text, `hostile text ${i} arrives unchanged`);
    assert.deepEqual(JSON.parse(h.metadata as string), { [text]: text }, `as a metadata key and value too (${i})`);
  }

  // the bad inputs: dead-lettered with their keys, reported in REST status and metrics; nothing else held back
  const dead = (await readRawRecords(`${fx.name}.dead-letter`, 3, 60_000)).map((r) => JSON.parse(r.value!.toString()) as Row);
  assert.deepEqual(dead.map((d) => [d.key, d.code]).sort(), [
    [manifestKey('2026-08-22T08-40-00'), 'MANIFEST_UNREADABLE'],
    [key('observations_v2', S3, 'parquet'), 'FILE_UNREADABLE'],
    [key('traces', S3, 'jsonl'), 'FILE_MISSING'],
  ].sort());
  const status = (await connector.call('GET', '/status')).body as { tables: Array<{ table: string; rejectedFiles?: Array<{ file: string; code: string }> }> };
  const rejected = status.tables.flatMap((x) => (x.rejectedFiles ?? []).map((r) => `${x.table} ${r.file} ${r.code}`));
  assert.ok(rejected.includes(`langfuse_export.observations_v2 ${key('observations_v2', S3, 'parquet')} FILE_UNREADABLE`), rejected.join('\n'));
  assert.ok(rejected.includes(`langfuse_export.traces ${key('traces', S3, 'jsonl')} FILE_MISSING`), rejected.join('\n'));
  const metrics = (await connector.call('GET', '/metrics')).body as string;
  assert.match(metrics, /tracelake_connector_export_files_total\{table="observations_v2",outcome="rejected"\} 1/);
  assert.match(metrics, /tracelake_connector_export_files_total\{table="observations_v2",outcome="taken"\} 2/);
  assert.match(metrics, /tracelake_connector_export_pending_units 0/);
});
