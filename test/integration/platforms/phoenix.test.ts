// Real Arize Phoenix (PyPI) on the stack's Postgres, fed real OTLP spans; connector and sink with the Phoenix
// presets; every mirrored table compared row for row, and llm_spans compared with what was sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startConnector } from '../../support/connector.ts';
import { sinkConfig, startSink } from '../../support/sink.ts';
import { connectTestWarehouse } from '../../support/warehouse.ts';
import { stack, uniqueName } from '../../support/stack.ts';
import { compareTable } from '../../support/compare.ts';
import { PRESETS } from '../../../schemas/src/platforms.ts';
import { presetDrift } from '../../../sources/postgres/preset-schemas.ts';
import { tableInfo } from '../../../sources/postgres/catalog.ts';
import { defaultMappingOptions } from '../../../schemas/src/pg-types.ts';
import { sleep } from '../../support/wait.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const HOME = process.env.TL_HOME ?? `${ROOT}.cache`;

interface SentSpan {
  trace_id: string; span_id: string; parent_span_id: string | null; span_kind: string; name: string;
  model?: string; prompt_tokens?: number; completion_tokens?: number; input_text?: string; output_text?: string;
  status: string; error_message?: string | null;
}

test('Phoenix → Postgres → connector → Kafka → sink → Delta: mirrored tables equal Postgres, llm_spans equals what was sent', async (t) => {
  execFileSync(`${ROOT}scripts/stack/phoenix.sh`, ['up'], { stdio: 'inherit' });
  const name = uniqueName('phx').toLowerCase();
  const phoenixUrl = stack().pgUrl.replace(/\/[^/]*$/, '/phoenix');
  const db = new pg.Client({ connectionString: phoenixUrl });
  await db.connect();
  const wh = await connectTestWarehouse();
  const stops: Array<() => Promise<void>> = [];
  t.after(async () => {
    for (const stop of stops) await stop().catch(() => undefined);
    await db.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active', [name]).catch(() => undefined);
    await db.query(`DROP PUBLICATION IF EXISTS ${name}`);
    await db.query('DELETE FROM projects WHERE name = $1', [name]); // its traces and spans go with it (the large span is ~18 MB)
    await db.end();
    await wh.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`).catch(() => undefined);
    await wh.close();
  });

  const send = (traces: number, seed: number): SentSpan[] => JSON.parse(execFileSync(
    `${HOME}/phoenix/venv-20.26.1/bin/python`, [`${ROOT}scripts/phoenix/send_spans.py`, 'http://127.0.0.1:16006/v1/traces', name, String(traces), String(seed)],
    { encoding: 'utf8' })) as SentSpan[];
  // the live Phoenix schema is the one checked in under schemas/avro/phoenix (no drift)
  // one query at a time on the one client (pg warns, deprecated, when a query is sent while another runs)
  const infos: Array<NonNullable<Awaited<ReturnType<typeof tableInfo>>>> = [];
  for (const tb of PRESETS.phoenix.tables) {
    const info = await tableInfo(db, 'public', tb);
    if (info) infos.push(info);
  }
  const drift = (await presetDrift(db, 'phoenix', infos, defaultMappingOptions, {}))
    .filter((d) => d.added.length + d.removed.length + d.retyped.length > 0);
  assert.deepEqual(drift, [], 'Phoenix 20.26.1 matches the checked-in preset schemas');

  const before = send(4, 1); // in Postgres before the connector starts: arrives through the snapshot

  const c = await startConnector({
    source: { url: phoenixUrl, platform: 'phoenix', publication: { name }, slot: { name }, heartbeatIntervalMs: 1000 },
    kafka: { brokers: stack().kafkaBrokers, topicPrefix: name, partitions: 2, stateTopic: `${name}-state` },
    registry: { url: stack().registryUrl },
  });
  stops.push(async () => { await c.connector.stop(); await c.done; });
  const s = await startSink({ ...sinkConfig(name), platform: 'phoenix' });
  stops.push(async () => { await s.sink.stop(); await s.done; });
  const sent = [...before, ...send(8, 2)]; // streamed: inserts, then Phoenix's updates of ancestors and traces

  // Phoenix prices only the models in its price table (span_costs rows of others hold NULL costs)
  const pgCosts = async () => new Map((await db.query<{ span_id: string; cost: number | null }>(
    `SELECT s.span_id, c.total_cost AS cost FROM spans s JOIN traces t ON t.id = s.trace_rowid JOIN projects p ON p.id = t.project_rowid
       LEFT JOIN span_costs c ON c.span_rowid = s.id WHERE p.name = $1`, [name])).rows.map((r) => [r.span_id, r.cost]));
  const llmSpans = async () => wh.query<Record<string, unknown>>(
    `SELECT * FROM ${name}.llm_spans WHERE project = '${name}'`).catch(() => [] as Record<string, unknown>[]);
  let rows: Record<string, unknown>[] = [];
  let costs = new Map<string, number | null>();
  for (let i = 0; i < 120; i++) {
    rows = await llmSpans();
    costs = await pgCosts();
    const costed = rows.filter((r) => r.cost_usd !== null).length;
    if (rows.length === sent.length && costed === [...costs.values()].filter((v) => v !== null).length) break;
    await sleep(1000);
  }
  assert.equal(rows.length, sent.length, 'every sent span is in llm_spans');

  const byId = new Map(rows.map((r) => [String(r.span_id), r]));
  for (const x of sent) {
    const r = byId.get(x.span_id);
    assert.ok(r, `span ${x.span_id} present`);
    assert.equal(r.trace_id, x.trace_id);
    assert.equal(r.parent_span_id ?? null, x.parent_span_id);
    assert.equal(r.span_kind, x.span_kind);
    assert.equal(r.name, x.name);
    assert.equal(r.project, name);
    assert.equal(r.status, x.status === 'ERROR' ? 'ERROR' : 'OK', 'one status vocabulary: UNSET (no error) is OK');
    if (x.error_message) assert.equal(r.error_message, x.error_message);
    if (x.span_kind === 'LLM') {
      assert.equal(r.model, x.model);
      assert.equal(Number(r.prompt_tokens), x.prompt_tokens);
      assert.equal(Number(r.completion_tokens), x.completion_tokens);
      assert.equal(Number(r.total_tokens), x.prompt_tokens! + x.completion_tokens!);
      assert.ok(r.input_text === x.input_text, `input of ${x.span_id} byte-identical (${x.input_text!.length} chars)`);
      assert.equal(r.output_text, x.output_text);
      assert.equal(r.cost_usd ?? null, costs.get(x.span_id) ?? null, 'cost from span_costs');
      assert.ok(Number(r.latency_ms) > 0);
    }
  }

  const daily = await wh.query<{ model: string | null; spans: number; errors: number; p95: number }>(
    `SELECT model, spans, error_rate * spans AS errors, p95_latency_ms AS p95 FROM ${name}.llm_daily WHERE project = '${name}'`);
  assert.equal(daily.reduce((n, d) => n + Number(d.spans), 0), sent.length, 'llm_daily counts every span');
  assert.equal(Math.round(daily.reduce((n, d) => n + Number(d.errors), 0)), sent.filter((x) => x.status === 'ERROR').length);
  assert.deepEqual(daily.map((d) => d.model).filter(Boolean).sort(), [...new Set(sent.map((x) => x.model).filter(Boolean))].sort());
  const lean = await wh.query<Record<string, unknown>>(`SELECT * FROM ${name}.llm_spans_lean LIMIT 1`);
  assert.ok(lean[0] && !('input_text' in lean[0]) && 'total_tokens' in lean[0]);

  // a span whose prompt carries an 8 MB image data URL and a 1 MB text context (Phoenix keeps both in attributes
  // twice: input.value and the message list) arrives intact in spans and in llm_spans
  const large = JSON.parse(execFileSync(`${HOME}/phoenix/venv-20.26.1/bin/python`,
    [`${ROOT}scripts/phoenix/send_large_span.py`, 'http://127.0.0.1:16006/v1/traces', name, String(8_000_000), String(1_000_000)],
    { encoding: 'utf8', maxBuffer: 1 << 20 })) as Record<'input' | 'image_url' | 'context', { bytes: number; sha256: string }> & { span_id: string };
  const imagePath = ['llm', 'input_messages', '0', 'message', 'contents', '1', 'message_content', 'image', 'image', 'url'];
  const contextPath = ['llm', 'input_messages', '0', 'message', 'contents', '0', 'message_content', 'text'];
  const storedLarge = () => db.query<Record<string, string>>(
    `SELECT octet_length(attributes::text)::text AS attrs_len, encode(sha256(convert_to(attributes::text, 'UTF8')), 'hex') AS attrs_sha,
            encode(sha256(convert_to(attributes #>> '{input,value}', 'UTF8')), 'hex') AS input_sha,
            encode(sha256(convert_to(attributes #>> $2, 'UTF8')), 'hex') AS image_sha,
            encode(sha256(convert_to(attributes #>> $3, 'UTF8')), 'hex') AS context_sha
       FROM spans WHERE span_id = $1`, [large.span_id, `{${imagePath.join(',')}}`, `{${contextPath.join(',')}}`]);
  let pgLarge: Record<string, string> | undefined;
  for (let i = 0; i < 60 && !pgLarge; i++) { // Phoenix writes what it receives in the background
    [pgLarge] = (await storedLarge()).rows;
    if (!pgLarge) await sleep(1000);
  }
  assert.ok(pgLarge, 'Phoenix stored the large span');
  assert.deepEqual([pgLarge.input_sha, pgLarge.image_sha, pgLarge.context_sha], [large.input.sha256, large.image_url.sha256, large.context.sha256],
    'Phoenix stored the values as sent');
  assert.ok(Number(pgLarge.attrs_len) > 16_000_000, `attributes of ${pgLarge.attrs_len} bytes`);
  const jsonPath = (path: string[]) => `$.${path.map((p) => (/^\d+$/.test(p) ? `[${p}]` : p)).join('.').replace(/\.\[/g, '[')}`;
  let deltaLarge: Record<string, unknown> | undefined;
  for (let i = 0; i < 180 && !deltaLarge; i++) {
    [deltaLarge] = await wh.query<Record<string, unknown>>(
      `SELECT CAST(octet_length(s.attributes) AS STRING) AS attrs_len, sha2(s.attributes, 256) AS attrs_sha, sha2(l.input_text, 256) AS input_sha,
              sha2(get_json_object(s.attributes, '${jsonPath(imagePath)}'), 256) AS image_sha,
              sha2(get_json_object(s.attributes, '${jsonPath(contextPath)}'), 256) AS context_sha
         FROM ${name}.spans s JOIN ${name}.llm_spans l ON l.span_id = s.span_id WHERE s.span_id = '${large.span_id}'`).catch(() => []);
    if (!deltaLarge) await sleep(1000);
  }
  assert.ok(deltaLarge, 'the large span reached spans and llm_spans');
  assert.deepEqual({ ...deltaLarge }, { attrs_len: pgLarge.attrs_len, attrs_sha: pgLarge.attrs_sha, input_sha: large.input.sha256,
    image_sha: large.image_url.sha256, context_sha: large.context.sha256 }, 'byte-identical in Delta');

  // annotations are upserts (the second overwrites the first); retention deletes a trace with everything under it
  const annotate = (score: number) => fetch('http://127.0.0.1:16006/v1/span_annotations?sync=true', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ data: sent.filter((x) => x.span_kind === 'LLM').slice(0, 3).map((x) => ({
      span_id: x.span_id, name: 'correctness', annotator_kind: 'HUMAN', result: { label: score > 0.5 ? 'correct' : 'wrong', score },
    })) }),
  }).then((r) => assert.equal(r.status, 200, 'Phoenix accepted the annotations'));
  await annotate(0.2);
  await annotate(0.9);
  const gone = sent.find((x) => x.span_kind === 'CHAIN')!.trace_id;
  await db.query('DELETE FROM traces WHERE trace_id = $1', [gone]); // what Phoenix's retention job does

  // every mirrored table equals Postgres, row for row
  let problems: string[] = [];
  let compared = 0;
  for (let attempt = 0; attempt < 60; attempt++) {
    const mirrored = new Set((await wh.query<{ tableName: string }>(`SHOW TABLES IN ${name}`)).map((r) => r.tableName));
    problems = [];
    compared = 0;
    for (const table of PRESETS.phoenix.tables) {
      const exists = (await db.query(`SELECT 1 FROM pg_tables WHERE schemaname = 'public' AND tablename = $1`, [table])).rows.length > 0;
      if (!exists) continue;
      const { rows: [n] } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM public.${table}`);
      if (Number(n!.n) === 0 && !mirrored.has(table)) continue; // no events yet, no table yet
      if (!mirrored.has(table)) { problems.push(`${table}: not mirrored yet`); continue; }
      const r = await compareTable(db, 'public', table, wh, `${name}.${table}`);
      problems.push(...r.mismatches);
      compared += r.rows;
    }
    if (problems.length === 0) break;
    await sleep(1000);
  }
  const annotated = await wh.query<{ n: number }>(`SELECT count(*) AS n FROM ${name}.span_annotations WHERE name = 'correctness' AND score = 0.9 AND NOT _deleted`);
  assert.ok(Number(annotated[0]!.n) >= 2, 'the annotation upsert overwrote the earlier score in Delta');
  const left = await wh.query<{ n: number }>(`SELECT count(*) AS n FROM ${name}.llm_spans WHERE trace_id = '${gone}'`);
  assert.equal(Number(left[0]!.n), 0, 'the retention-deleted trace is gone from llm_spans');
  assert.deepEqual(problems, [], `mirrored tables equal Postgres (${compared} rows compared)`);
});
