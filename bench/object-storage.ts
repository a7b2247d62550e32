// The object-storage source (issue 22) on the local stack's SeaweedFS, with Langfuse blob-storage export runs
// written by the tests' real writers (test/fixtures/export-files/write_exports.py: pyarrow Parquet as ClickHouse
// types it, gzip JSONL as Langfuse's JSON serialiser writes it):
//
// 1. Files → Kafka: one export run of --rows observations_v2 rows (~3 KB input, ~1 KB output each, word salad new per row) per format.
//    Reference in the same run: what the bench process needs to GET the file from the store and parse it with the
//    same readers (file-rows.ts), nothing else — the ceiling of a source that reads whole files. Ours: the
//    connector as a child process (defaults, fresh topics and state each run) from its start-up log line to the
//    last event in Kafka; rows/s, file MB/s (as stored) and text MB/s (the values' UTF-8 bytes), peak RSS.
// 2. Manifest → Delta: connector (objectStorage.pollIntervalMs --poll-ms, default 1000) and sink (its defaults,
//    platform langfuse-export) as child processes; --runs times an export run of 1,000 rows (gzip JSONL) is
//    uploaded, manifest last, and the time from the manifest's PUT to all its rows counted in the Delta table is
//    taken (the warehouse polled every 200 ms).
//
// Run: make bench-object-storage [ROWS=n]. Arguments: --rows (default 20000) --repeats (default 3) --runs
// (default 5) --poll-ms, --heap-mb n (the connector's --max-old-space-size in part 1). BENCH_DRY_RUN=1 prints the results instead of appending them to docs/benchmarks.md.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { appendResults, env, kafkaAdmin, load1, machine, median, ROOT, sleep, startOurs, today, treePeakRssMb, waitForTopicCount } from './lib/harness.ts';
import { exportBucket, type ExportBucket, type ExportFileSpec } from '../test/support/object-store.ts';
import { lfManifest, observationV2 } from '../test/support/export-pipeline.ts';
import { S3ObjectStore } from '../sources/object-storage/object-store.ts';
import { fileRows } from '../sources/object-storage/file-rows.ts';
import { JsonText } from '../sources/object-storage/json-text.ts';
import { objectStorageSourceSchema } from '../sources/object-storage/object-storage-config.ts';
import { connectTestWarehouse } from '../test/support/warehouse.ts';

const { values: args } = parseArgs({ options: {
  rows: { type: 'string', default: '20000' }, repeats: { type: 'string', default: '3' }, runs: { type: 'string', default: '5' }, 'poll-ms': { type: 'string', default: '1000' },
  'heap-mb': { type: 'string' },
} });
const ROWS = Number(args.rows);
const REPEATS = Number(args.repeats);
const RUNS = Number(args.runs);
const POLL_MS = Number(args['poll-ms']);
/** the connector's V8 old-space limit (--max-old-space-size), to see what it needs rather than what it grows to */
const HEAP = args['heap-mb'] ? [`--max-old-space-size=${args['heap-mb']}`] : [];
const started = performance.now();
const loads: string[] = [load1()];

const python = execFileSync(`${ROOT}scripts/stack/fixture-python.sh`, ['python'], { encoding: 'utf8' }).trim();
const MB = 1024 * 1024;

/** Writes one export run (files, then its manifest) of `rows` observations (ids idBase-0…) and uploads it; the files' stored bytes. */
async function uploadRun(b: ExportBucket, prefix: string, stem: string, format: 'parquet' | 'jsonl', rows: number, inputBytes: number, idBase = 'o'): Promise<number> {
  const base = observationV2({ id: idBase, trace: 't', at: 0 });
  const file: ExportFileSpec & { generate: object } = {
    path: `${prefix}p1/observations_v2/${stem}.${format === 'parquet' ? 'parquet' : 'jsonl.gz'}`, format, gzip: format === 'jsonl', table: 'langfuse/observations_v2',
    rows: [base], generate: { count: rows, fields: ['id', 'trace_id'], prose: { input: inputBytes, output: 1000 } },
  };
  const dir = mkdtempSync(join(tmpdir(), 'tl-bench-exports-'));
  try {
    execFileSync(python, [`${ROOT}test/fixtures/export-files/write_exports.py`], { input: JSON.stringify({ outDir: dir, files: [file] }), stdio: ['pipe', 'inherit', 'inherit'] });
    const bytes = statSync(join(dir, file.path)).size;
    await b.put(file.path, readFileSync(join(dir, file.path)));
    await b.put(`${prefix}p1/manifests/${stem}.json`, lfManifest(prefix, stem, 'EVENTS', [{ key: file.path, table: 'observations_v2', fileType: format.toUpperCase(), compressed: format === 'jsonl', rowCount: format === 'parquet' ? null : rows }]));
    return bytes;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function connectorConfig(b: ExportBucket, name: string, prefix: string, pollIntervalMs = 1000): Record<string, unknown> {
  return {
    source: {}, objectStorage: b.source('langfuse-export', { prefix, pollIntervalMs }),
    kafka: { brokers: env.kafkaBrokers, topicPrefix: name, stateTopic: `${name}.state` }, registry: { url: env.registryUrl },
  };
}

const bucket = await exportBucket('bench-os');
const admin = kafkaAdmin();
const lines: string[] = [];
try {
  // 1. files → Kafka
  const table: string[] = [];
  for (const format of ['parquet', 'jsonl'] as const) {
    const prefix = `${format}/`;
    const stored = await uploadRun(bucket, prefix, '2026-08-22T07-40-00', format, ROWS, 3000);
    const key = `${prefix}p1/observations_v2/2026-08-22T07-40-00.${format === 'parquet' ? 'parquet' : 'jsonl.gz'}`;
    const store = new S3ObjectStore(objectStorageSourceSchema.parse(bucket.source('langfuse-export')));
    const ceiling: number[] = [];
    let textBytes = 0;
    for (let i = 0; i < REPEATS; i++) {
      const t0 = performance.now();
      const rows = await fileRows(await store.get(key), format, format === 'jsonl', { maxBytes: 4096 * MB });
      ceiling.push((performance.now() - t0) / 1000);
      if (rows.length !== ROWS) throw new Error(`read ${rows.length} rows, expected ${ROWS}`);
      textBytes = 0;
      for (const r of rows) for (const v of r.values()) textBytes += typeof v === 'string' ? Buffer.byteLength(v) : v instanceof JsonText ? Buffer.byteLength(v.text) : 0;
    }
    store.close();
    const ours: number[] = [];
    const rss: number[] = [];
    for (let i = 0; i < REPEATS; i++) {
      const name = `bench_os_${format}_${Date.now()}`;
      const run = startOurs(connectorConfig(bucket, name, prefix), HEAP);
      let peak = 0;
      const sampler = setInterval(() => { peak = Math.max(peak, treePeakRssMb(run.child.pid!)); }, 200);
      const t0 = await run.logged('capturing exported files');
      const { at } = await waitForTopicCount(admin, `${name}.langfuse_export.observations_v2`, ROWS, { timeoutMs: 600_000, alive: () => run.child.exitCode === null });
      clearInterval(sampler);
      peak = Math.max(peak, treePeakRssMb(run.child.pid!));
      ours.push((at - t0) / 1000);
      rss.push(peak);
      await run.stop();
      await admin.deleteTopics({ topics: (await admin.listTopics()).filter((t: string) => t.startsWith(name)) }).catch(() => undefined);
    }
    loads.push(load1());
    const c = median(ceiling);
    const o = median(ours);
    table.push(`| ${format === 'parquet' ? 'Parquet (zstd, pyarrow)' : 'JSONL, gzip'} | ${ROWS.toLocaleString('en')} | ${(stored / MB).toFixed(1)} MB / ${(textBytes / MB).toFixed(1)} MB | `
      + `${c.toFixed(2)} s (${ceiling.map((x) => x.toFixed(2)).join(', ')}) | ${o.toFixed(2)} s (${ours.map((x) => x.toFixed(2)).join(', ')}) | `
      + `${Math.round(ROWS / o).toLocaleString('en')} rows/s, ${(stored / MB / o).toFixed(1)} / ${(textBytes / MB / o).toFixed(1)} MB/s | ${(c / o * 100).toFixed(0)}% | ${Math.max(...rss).toFixed(0)} MB |`);
  }

  // 2. manifest → Delta
  const name = `bench_os_fresh_${Date.now()}`;
  const prefix = 'fresh/';
  const connector = startOurs(connectorConfig(bucket, name, prefix, POLL_MS));
  await connector.logged('capturing exported files');
  const sink = startOurs({
    kafka: { brokers: env.kafkaBrokers, groupId: `${name}-sink`, topicPrefix: name }, registry: { url: env.registryUrl },
    warehouse: { host: env.warehouse.host, port: env.warehouse.port, path: env.warehouse.path, token: env.warehouse.token, caCertFile: env.warehouse.caFile, schema: name },
    platform: 'langfuse-export',
  }, [], 'sink');
  await sink.logged('sink running');
  const wh = await connectTestWarehouse();
  const fresh: number[] = [];
  try {
    for (let run = 0; run < RUNS; run++) {
      const stem = `2026-08-22T${String(8 + run).padStart(2, '0')}-00-00`;
      const before = performance.now();
      await uploadRun(bucket, prefix, stem, 'jsonl', 1000, 3000, `run${run}`);
      const manifestAt = performance.now();
      const want = (run + 1) * 1000;
      for (;;) {
        const n = Number((await wh.query<{ n: number }>(`SELECT count(*) AS n FROM ${name}.observations_v2`).catch(() => [{ n: 0 }]))[0]!.n);
        if (n >= want) break;
        if (performance.now() - before > 300_000) throw new Error(`run ${run}: ${n} of ${want} rows in Delta after 300 s`);
        await sleep(200);
      }
      fresh.push((performance.now() - manifestAt) / 1000);
      await sleep(500);
    }
  } finally {
    await connector.stop();
    await sink.stop();
    await wh.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`).catch(() => undefined);
    await wh.close();
    await admin.deleteTopics({ topics: (await admin.listTopics()).filter((t: string) => t.startsWith(name)) }).catch(() => undefined);
  }
  loads.push(load1());
  const sorted = [...fresh].sort((a, b) => a - b);

  const heapNote = HEAP.length > 0 ? `, and the connector's V8 old space limited to ${args['heap-mb']} MB (\`${HEAP[0]}\`) in the first part: what it needs, not what it grows to` : '';
  lines.push(
    `## Object-storage source: files → Kafka, and manifest → Delta — ${today()} (issue 22)`, '',
    `Machine: ${machine()}; the stack's SeaweedFS (one \`weed server\`), Kafka, the registry and Spark on the same cores. Langfuse blob-storage`,
    'export runs of observations_v2 rows (~3 KB input, ~1 KB output, the default field groups) written by the tests\' writers',
    '(test/fixtures/export-files/write_exports.py: pyarrow, gzip). bench/object-storage.ts; connector and sink on their defaults',
    `except \`objectStorage.pollIntervalMs: ${POLL_MS}\` in the freshness part${heapNote}.`, '',
    `**Files → Kafka** (${REPEATS} runs each, median and every run). Ceiling: GET from the store and parse with the same readers in the bench`,
    'process, nothing else. Ours: the connector process from its start-up line to the last event acknowledged in Kafka (fresh topics and',
    'state each run). MB: the file as stored / the text of its values.', '',
    '| file | rows | size stored / text | ceiling (GET + parse) | ours | ours: rows/s, MB/s stored / text | ours ÷ ceiling speed | connector peak RSS |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |', ...table, '',
    `**Manifest → Delta**: ${RUNS} export runs of 1,000 rows (gzip JSONL), each visible in the Delta table (all its rows counted) after the`,
    `manifest's PUT: p50 ${median(fresh).toFixed(2)} s, max ${sorted[sorted.length - 1]!.toFixed(2)} s (${fresh.map((x) => x.toFixed(2)).join(', ')}). The listing interval`,
    `(here ${POLL_MS / 1000} s; 30 s by default) bounds the wait for a manifest to be seen; Langfuse's own schedule (every 20 minutes at the`,
    'most often, 20 minutes behind) dominates the freshness a user sees (docs/platforms.md).', '',
    `1-min load average before / after each measurement: ${loads.join(' / ')}. Whole run: ${Math.round((performance.now() - started) / 1000)} s.`,
  );
} finally {
  await admin.close();
  await bucket.cleanup();
}
appendResults(lines);
