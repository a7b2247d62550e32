// make demo-exports: Langfuse's blob-storage export on the stack's S3-compatible store (SeaweedFS). Two export runs
// are written the way Langfuse writes them — files by real writers (the enriched observations as ClickHouse's
// Parquet, scores as gzip JSONL), each run's manifest last — one before the pipeline starts and one while it runs,
// the second exporting a generation again after it ended. The connector (objectStorage section, no Postgres) and
// the sink (platform langfuse-export) run as their real CLIs; at the end llm_spans and llm_daily are read back from
// Delta. Langfuse itself does not run here: the files it would write are generated.
import { stack } from './stack/stack-env.ts';
import { DemoServices, demoSinkConfig, resetKafkaAndDelta, say, showViews, warehouse } from './demo/services.ts';
import { exportBucket, type ExportBucket, type ExportFileSpec } from '../test/support/object-store.ts';
import { lfManifest, observationV2, scoreRow } from '../test/support/export-pipeline.ts';

const NAME = 'tracelake_export_demo';
const env = stack();
const MODELS = ['gpt-4o', 'claude-sonnet-4', 'llama-3.1-70b'];

/** One export run of Langfuse's enriched observations (Parquet) and scores (gzip JSONL), manifest last. */
async function exportRun(b: ExportBucket, stem: string, observations: Array<Record<string, unknown>>, scores: Array<Record<string, unknown>>): Promise<void> {
  const files: ExportFileSpec[] = [
    { path: `langfuse/demo-project/scores/${stem}.jsonl.gz`, format: 'jsonl', gzip: true, table: 'langfuse/scores', rows: scores },
    { path: `langfuse/demo-project/observations_v2/${stem}.parquet`, format: 'parquet', table: 'langfuse/observations_v2', rows: observations },
  ];
  await b.write(files);
  await b.put(`langfuse/demo-project/manifests/${stem}.json`, lfManifest('langfuse/', stem, 'EVENTS', files.map((f) => ({
    key: f.path, table: f.table.split('/')[1]!, fileType: f.format.toUpperCase(), compressed: f.gzip === true, rowCount: f.format === 'parquet' ? null : f.rows.length,
  }))));
}

/** A trace as Langfuse exports it: a root span, a generation and a tool call (the generation still running unless `ended`). */
function trace(i: number, ended: boolean): Array<Record<string, unknown>> {
  const t = `trace-${i}`;
  const at = i * 30;
  const failed = i % 4 === 3;
  const gen = observationV2({
    id: `${t}-gen`, trace: t, parent: `${t}-root`, at: at + 1, updated: ended ? at + 60 : at + 1,
    input: JSON.stringify([{ role: 'user', content: `How do I reset my password? (ticket ${i}) — "quotes", \\backslash, \${template}` }]),
    output: ended && !failed ? 'Open Settings → Security → Reset password.' : '', level: ended && failed ? 'ERROR' : 'DEFAULT',
    statusMessage: ended && failed ? 'rate limited' : '', usage: { input: 120 + i, output: 40 + i, total: 160 + 2 * i }, cost: 0.001 + i / 10_000,
  });
  // spans and tool calls carry no model, usage or cost
  const plain = { provided_model_name: '', model_id: '', usage_details: {}, cost_details: {}, total_cost: 0 };
  return [
    { ...observationV2({ id: `${t}-root`, trace: t, type: 'SPAN', at }), ...plain },
    { ...gen, provided_model_name: MODELS[i % MODELS.length] },
    { ...observationV2({ id: `${t}-tool`, trace: t, parent: `${t}-gen`, type: 'TOOL', at: at + 2, input: '{"query":"password reset"}', output: '{"docs":3}' }), ...plain },
  ].map((o) => ({ ...o, project_id: 'demo-project' }));
}

async function main(): Promise<void> {
  say('· starting the stack\'s S3-compatible store (SeaweedFS; the first run installs it from PyPI, ~10 s) and a bucket');
  const bucket = await exportBucket('tl-export-demo');
  await resetKafkaAndDelta(NAME);
  await exportRun(bucket, '2026-08-22T07-40-00', [0, 1, 2].flatMap((i) => trace(i, i < 2)), [scoreRow('score-0', 'trace-0', 'trace-0-gen', 20, 0.9)]);
  say('· export run 1 in the bucket before the pipeline starts: 3 traces (9 observations, one generation still running), 1 score');

  const services = new DemoServices('demo-exports', {
    source: {},
    objectStorage: { ...bucket.source('langfuse-export', { prefix: 'langfuse/', pollIntervalMs: 1000 }) },
    kafka: { brokers: env.kafkaBrokers, topicPrefix: NAME, partitions: 2, stateTopic: `${NAME}-state` },
    registry: { url: env.registryUrl },
    http: { host: '127.0.0.1', port: 18095 }, failurePolicy: 'exit',
  }, demoSinkConfig(NAME, 'langfuse-export', 18096));
  const wh = await warehouse();
  try {
    services.start();
    say('· connector (objectStorage: the bucket\'s langfuse/ prefix, as a read-and-list identity) and sink started');
    await new Promise((r) => setTimeout(r, 5000));
    // run 2: two new traces, and trace 2's generation again now that it ended (a later updated_at wins)
    await exportRun(bucket, '2026-08-22T08-00-00', [...[3, 4].flatMap((i) => trace(i, true)), trace(2, true)[1]!], [scoreRow('score-3', 'trace-3', null, 95, 0.4)]);
    const manifestAt = Date.now();
    say('· export run 2 written (manifest last): 2 more traces, and the generation of trace 2 again, ended');
    let seen = -1;
    const done = `SELECT count(*) AS n FROM ${NAME}.llm_spans WHERE span_kind != 'GENERATION' OR output_text != '' OR status = 'ERROR'`;
    for (const deadline = Date.now() + 300_000; seen !== 15 && Date.now() < deadline;) {
      if (services.failed) throw new Error('a service exited early');
      await new Promise((r) => setTimeout(r, 500));
      seen = Number((await wh.query<{ n: number }>(done).catch(() => [{ n: -1 }]))[0]?.n);
    }
    if (seen !== 15) throw new Error(`llm_spans has ${seen} finished spans of 15`);
    say(`· llm_spans caught up ${((Date.now() - manifestAt) / 1000).toFixed(1)} s after run 2's manifest was written (15 spans, every generation ended)\n`);
    await showViews(wh, NAME);
    const offsets = await (await fetch('http://127.0.0.1:18095/offsets')).json() as { objectStorage?: { taken: Record<string, string> } };
    say(`connector position (GET /offsets): export runs taken ${JSON.stringify(Object.keys(offsets.objectStorage?.taken ?? {}))}`);
    say(`done. Logs: ${services.logOf('connector')}, ${services.logOf('sink')}`);
  } finally {
    await services.stop();
    await wh.close();
    await bucket.cleanup();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${(err as Error).message}\n`);
  process.exit(1);
});
