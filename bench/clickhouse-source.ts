// The ClickHouse source (issue 21) on the local stack's engine (chdb-core behind the HTTP front; it runs one query
// at a time), Langfuse v4's events_full:
//
// 1. Freshness: a writer inserts Langfuse v4 events_full rows (a few KB of input/output each) at --rate rows/s
//    (default 1000) for --seconds (default 60) into a fresh database, in batches every 100–200 ms as Langfuse's
//    async inserts flush, ~30% of the spans first as "started" (no output, no end_time) and again 1–5 s later
//    complete with a later event_ts (the end update). Connector (`clickhouse` section, pollIntervalMs --poll-ms,
//    default 1000, reading as the stack's read-only user) and sink (platform langfuse, its default batching) run in
//    this process. Per span, the time from the INSERT of its final version returning to the Delta commit that made
//    that version visible. Nothing queries the warehouse while the rows stream in: afterwards each row's
//    `_synced_at` (current_timestamp() of the MERGE that wrote it) names its MERGE — the first MERGE commit of the
//    table's log at or after it (the sink merges one table's batches one at a time) — and the write time of that
//    commit file is when the row became visible (checked against the commit that added the row's data file, which
//    cannot be earlier). Also per row: insert → read by a poll (the connector's share), and the connector's
//    tracelake_connector_milliseconds_behind_source observations.
// 2. Rows read per poll: a fresh database whose events_full gets --rows rows (default 10,000,000) generated
//    server-side (INSERT … SELECT … FROM numbers(), --chunk rows per INSERT, default 1,000,000; small strings;
//    start_time over the last 90 days: four monthly partitions), merges left to settle; then the connector starts
//    with `snapshot.mode: no_data` (no sink) and a stream of --stream-rate rows/s (default 200) runs for --seconds.
//    Per poll of events_full: rows ClickHouse read (its query statistics, the connector's own metrics) against the
//    table's rows, and which parts the poll read (a merged part — one spanning several blocks — read again is the
//    re-read cost).
//
// Run: make bench-clickhouse [ROWS=n RATE=n DURATION=s] (the stack must be idle: ClickHouse runs one query at a
// time). Arguments: --parts freshness,poll --rows --chunk --seconds --rate --stream-rate --poll-ms --repeats
// (freshness runs, each on a fresh database), or the same as BENCH_CH_* variables. BENCH_DRY_RUN=1 prints the results
// instead of appending them to docs/benchmarks.md; BENCH_CH_TRACE=<path> also writes every poll's queries (parts
// listed and read) and the spans not seen in Delta as JSON; BENCH_CH_KEEP=1 leaves a freshness run's data;
// --clean-up drops what interrupted runs left (everything named bench_chf_… / bench_chp_…).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { Registry } from 'prom-client';
import { createClient, type ClickHouseSettings } from '@clickhouse/client';
import { Connector } from '../connector/src/connector.ts';
import { parseConnectorConfig, type ConnectorConfigInput } from '../connector/src/config.ts';
import { ConnectorMetrics } from '../connector/src/metrics.ts';
import { Sink } from '../sink/src/sink.ts';
import { parseSinkConfig } from '../sink/src/config.ts';
import type { Warehouse } from '../sink/src/warehouse/databricks-client.ts';
import { ClickHouseReader, type ReadStats } from '../sources/clickhouse/clickhouse-reader.ts';
import type { PollResult } from '../sources/clickhouse/table-poller.ts';
import { clickhouseFixture, clickhouseStack, type ClickHouseFixture } from '../test/support/clickhouse.ts';
import { connectorFixture, type ConnectorFixture } from '../test/support/connector.ts';
import { span } from '../test/support/langfuse-rows.ts';
import { sinkConfig } from '../test/support/sink.ts';
import { connectTestWarehouse } from '../test/support/warehouse.ts';
import { cpuWindow, formatCpu, type CpuShare } from './lib/cpu.ts';
import { appendResults, benchSinkBatching, cleanUp, env, kafkaAdmin, load1, machine, ROOT, sleep, today } from './lib/harness.ts';

const { values: args } = parseArgs({
  options: {
    parts: { type: 'string' }, rows: { type: 'string' }, chunk: { type: 'string' }, seconds: { type: 'string' }, rate: { type: 'string' },
    'stream-rate': { type: 'string' }, 'poll-ms': { type: 'string' }, repeats: { type: 'string' }, 'clean-up': { type: 'boolean' },
  },
});
function positive(name: string, value: string | undefined, fallback: number): number {
  const n = Number(value ?? fallback);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, not ${value}`);
  return n;
}
const PARTS = (args.parts ?? process.env.BENCH_CH_PARTS ?? 'freshness,poll').split(',');
const ROWS = positive('rows', args.rows ?? process.env.BENCH_CH_ROWS, 10_000_000);
const CHUNK = positive('chunk', args.chunk ?? process.env.BENCH_CH_CHUNK, 1_000_000);
const SECONDS = positive('seconds', args.seconds ?? process.env.BENCH_CH_SECONDS, 60);
const RATE = positive('rate', args.rate ?? process.env.BENCH_CH_RATE, 1000);
const STREAM_RATE = positive('stream-rate', args['stream-rate'] ?? process.env.BENCH_CH_STREAM_RATE, 200);
const POLL_MS = positive('poll-ms', args['poll-ms'] ?? process.env.BENCH_CH_POLL_MS, 1000);
const REPEATS = positive('repeats', args.repeats ?? process.env.BENCH_CH_REPEATS, 1);
/** share of spans written first as started and again 1–5 s later as ended */
const UPDATE_SHARE = 0.3;
const DAY_US = 86_400_000_000;
/** BENCH_CH_TRACE=<path>: each measurement's polls (every query with the parts it listed or read) as <path>.<part>.json; BENCH_CH_KEEP=1: leave the data */
const TRACE = process.env.BENCH_CH_TRACE;
const KEEP = process.env.BENCH_CH_KEEP === '1';
/** longest wait, after the writer stopped, for the last spans to reach Delta (BENCH_CH_DRAIN_S, default 1200 s) */
const DRAIN_MS = positive('BENCH_CH_DRAIN_S', process.env.BENCH_CH_DRAIN_S, 1200) * 1000;

const log = pino({ level: process.env.BENCH_LOG_LEVEL ?? 'warn' });
const CPU_PARTS: Array<[RegExp, string]> = [
  [/clickhouse-http\.py/, 'ClickHouse (chdb)'], [/pyspark|org\.apache\.spark|spark-submit/i, 'Spark'], [/bench\/clickhouse-source\.ts/, 'bench process (connector, sink, writer)'],
];
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const pct = (s: number[], p: number) => (s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!);
const mean = (xs: number[]) => (xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length);
const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const int = (n: number) => Math.round(n).toLocaleString('en-US');

// ------------------------------------------------------------------------------------------------------------
// What the connector does, seen from inside: every ClickHouse query of its reader, grouped by poll

interface QueryRecord {
  kind: 'parts' | 'mutations' | 'columns' | 'read' | 'follow' | 'other';
  ms: number;
  readRows: number;
  /** parts named by a read (`WHERE _part IN (…)`), or listed by a part listing */
  parts: string[];
  /** when it started (ms since 1970) */
  at: number;
  /** the start of the SQL of a query of no known kind */
  text?: string;
}

interface PollRecord {
  at: number;
  table: string;
  rowsRead: number;
  tableRows: number;
  events: number;
  queries: QueryRecord[];
}

/** Rows per part name as the connector's part listings showed them, and when each row version was first read. */
class Probe {
  pending: QueryRecord[] = [];
  readonly partRows = new Map<string, number>();
  readonly readAt = new Map<string, number>();
  /** only rows of this table's part reads are timed */
  table = '';
}

/**
 * Whether a part (partition_min_max_level[_mutation]) holds more than one INSERT's block, i.e. came from a merge.
 * Not its level: an INSERT into a ReplacingMergeTree makes a level-1 part already (optimize_on_insert).
 */
const isMerged = (name: string) => { const f = name.split('_'); return f.length >= 4 && f[1] !== f[2]; };

/** Wraps ClickHouseReader.rows (every query of the connector's reader) to record what each one read. Returns the undo. */
function instrumentReader(probe: Probe): () => void {
  const original = ClickHouseReader.prototype.rows;
  ClickHouseReader.prototype.rows = async function rows(this: ClickHouseReader, query: string, onRow: (row: Array<string | null>) => unknown, settings?: ClickHouseSettings): Promise<ReadStats> {
    const kind: QueryRecord['kind'] = /FROM system\.parts/.test(query) && /\bactive\b/.test(query) && /partition_id/.test(query) ? 'parts'
      : /FROM system\.mutations/.test(query) ? 'mutations'
      : /FROM system\.columns/.test(query) ? 'columns'
      : /WHERE _part IN \(/.test(query) ? 'read'
      : /_row_exists|WHERE \(/.test(query) ? 'follow' : 'other';
    const record: QueryRecord = { kind, ms: 0, readRows: 0, parts: [], at: Date.now(), ...(kind === 'other' ? { text: query.slice(0, 160) } : {}) };
    let handler = onRow;
    if (kind === 'parts') {
      handler = (row) => { probe.partRows.set(row[1]!, Number(row[4])); record.parts.push(row[1]!); return onRow(row); };
    } else if (kind === 'read') {
      const list = query.slice(query.lastIndexOf('_part IN ('));
      record.parts = [...list.matchAll(/'([^']+)'/g)].map((m) => m[1]!);
      if (probe.table && query.includes(probe.table)) {
        // the SELECT list: the table's columns (span_id third), then version, is_deleted, _part, _part_offset
        handler = (row) => {
          const key = `${row[2]}|${row[row.length - 4]}`;
          if (!probe.readAt.has(key)) probe.readAt.set(key, Date.now());
          return onRow(row);
        };
      }
    }
    const t0 = performance.now();
    const stats = await original.call(this, query, handler, settings);
    record.ms = performance.now() - t0;
    record.readRows = stats.readRows;
    probe.pending.push(record);
    return stats;
  };
  return () => { ClickHouseReader.prototype.rows = original; };
}

/** The connector's metrics, with each poll kept (what recordPoll is given) and the behind-source observations. */
class BenchMetrics extends ConnectorMetrics {
  readonly polls: PollRecord[] = [];
  readonly behind: number[] = [];
  readonly probe: Probe;

  constructor(probe: Probe) {
    super(new Registry());
    this.probe = probe;
    const observe = this.behindSource.observe.bind(this.behindSource);
    this.behindSource.observe = ((v: number) => { this.behind.push(v); observe(v); }) as typeof this.behindSource.observe;
  }

  override recordPoll(table: string, poll: Parameters<ConnectorMetrics['recordPoll']>[1]): void {
    super.recordPoll(table, poll);
    const r = poll as Partial<PollResult> & typeof poll;
    this.polls.push({ at: Date.now(), table, rowsRead: r.rowsRead, tableRows: r.tableRows, events: r.events ?? 0, queries: this.probe.pending.splice(0) });
  }

  reset(): void {
    this.polls.length = 0;
    this.behind.length = 0;
    this.probe.pending.length = 0;
  }
}

// ------------------------------------------------------------------------------------------------------------
// Rows as Langfuse v4 writes them

const WORDS = ['the', 'user', 'asked', 'about', 'refund', 'policy', 'order', '#4711', 'please', 'summarize', 'context', 'tool', 'result:',
  'weather', 'in', 'Berlin', 'is', 'rain', '"quoted"', "it's", 'and', 'then', 'answer', 'with', 'citations', 'model', 'tokens'];
function prose(bytes: number, seed: number): string {
  const out: string[] = [];
  for (let i = 0, n = 0; n < bytes; i++) {
    const w = WORDS[(i * 7 + seed * 13 + (i >> 3)) % WORDS.length]!;
    out.push(w);
    n += w.length + 1;
  }
  return out.join(' ');
}
/** Texts to draw from: system prompts (~1.5–2.5 KB), user turns (~0.3–1 KB), answers (~0.8–2 KB). */
const SYSTEM = Array.from({ length: 16 }, (_, i) => prose(1500 + 70 * i, i));
const USER = Array.from({ length: 32 }, (_, i) => prose(300 + 22 * i, 100 + i));
const ANSWER = Array.from({ length: 32 }, (_, i) => prose(800 + 40 * i, 200 + i));
const KINDS = ['SPAN', 'GENERATION', 'GENERATION', 'TOOL', 'EVENT'];

/** DateTime64(6) text of a time in µs since 1970 (UTC). */
function usText(us: number): string {
  return `${new Date(Math.floor(us / 1000)).toISOString().replace('T', ' ').slice(0, 23)}${String(us % 1000).padStart(3, '0')}`;
}

interface LiveSpan { project: string; trace: string; id: string; parent: string; kind: string; startUs: number; n: number }

/** One events_full row of `s` (span() of the test rows, with this run's ids and times): ended or only started. */
function spanRow(s: LiveSpan, versionUs: number, ended: boolean): Record<string, unknown> {
  const input = JSON.stringify({ messages: [{ role: 'system', content: SYSTEM[s.n % SYSTEM.length] }, { role: 'user', content: `${s.id}: ${USER[s.n % USER.length]}` }] });
  const row = span({
    trace: s.trace, id: s.id, parent: s.parent, kind: s.kind, at: 0, input, output: ended ? `${ANSWER[s.n % ANSWER.length]} (${s.id})` : '',
    usage: { input: 400 + (s.n % 900), output: ended ? 50 + (s.n % 400) : 0 }, metadata: { env: 'prod', region: 'eu-west-1', sdk: 'python' },
  });
  return {
    ...row, project_id: s.project, start_time: usText(s.startUs), end_time: ended ? usText(versionUs) : null,
    created_at: usText(s.startUs), updated_at: usText(versionUs), event_ts: usText(versionUs),
  };
}

const PROJECTS = ['cm3a1b2c3d4e5f6g7h8i9j0kl', 'cm3m5n6o7p8q9r0s1t2u3v4wx', 'cm3y5z6a7b8c9d0e1f2g3h4ij'];

interface WriteResult {
  spans: number;
  updates: number;
  rows: number;
  batches: number;
  seconds: number;
  insertMs: number[];
  /** per span: its versions [event_ts µs, when its INSERT returned (ms)] */
  versions: Map<string, Array<[number, number]>>;
  /** [when the batch's INSERT returned (ms), rows] */
  batchLog: Array<[number, number]>;
}

/**
 * `rate` rows/s for `seconds` into events_full: a batch every 100–200 ms holding the rows due by then (new spans,
 * and the end updates that came due); the end updates still pending at the end are written in one last batch.
 */
async function writeStream(ch: ClickHouseFixture, rate: number, seconds: number, salt: string): Promise<WriteResult> {
  const out: WriteResult = { spans: 0, updates: 0, rows: 0, batches: 0, seconds: 0, insertMs: [], versions: new Map(), batchLog: [] };
  const pending: Array<{ s: LiveSpan; dueAt: number }> = [];
  let seq = 0;
  let trace = '';
  let root = '';
  const nowUs = () => Date.now() * 1000 + (seq++ % 1000);
  const insert = async (batch: Array<[LiveSpan, number, boolean]>) => {
    if (batch.length === 0) return;
    const t0 = performance.now();
    await ch.insert('events_full', batch.map(([s, v, ended]) => spanRow(s, v, ended)));
    const returned = Date.now();
    out.insertMs.push(performance.now() - t0);
    for (const [s, v] of batch) {
      const vs = out.versions.get(s.id) ?? [];
      vs.push([v, returned]);
      out.versions.set(s.id, vs);
    }
    out.rows += batch.length;
    out.batches++;
    out.batchLog.push([returned, batch.length]);
  };
  const start = Date.now();
  const end = start + seconds * 1000;
  for (let due = start; ;) {
    // the next batch 100–200 ms after the last one was due (at once when an INSERT took longer: it holds more rows)
    due = Math.max(due + 100 + Math.random() * 100, Date.now());
    if (due > end) break;
    if (due > Date.now()) await sleep(due - Date.now());
    const now = Date.now();
    const batch: Array<[LiveSpan, number, boolean]> = [];
    while (pending.length > 0 && pending[0]!.dueAt <= now) {
      batch.push([pending.shift()!.s, nowUs(), true]);
      out.updates++;
    }
    const fresh = Math.max(0, Math.floor(((now - start) / 1000) * rate) - out.rows - batch.length);
    for (let i = 0; i < fresh; i++) {
      const n = out.spans++;
      // OTel-like ids: 32 hex digits a trace (five spans each), 16 a span
      if (n % 5 === 0) [trace, root] = [`${salt.slice(-8)}${n.toString(16).padStart(24, '0')}`, ''];
      const id = `${salt.slice(-4)}${n.toString(16).padStart(12, '0')}`;
      const versionUs = nowUs();
      const started = Math.random() < UPDATE_SHARE;
      const s: LiveSpan = {
        project: PROJECTS[n % PROJECTS.length]!, trace, id, parent: root, kind: KINDS[n % KINDS.length]!,
        startUs: started ? versionUs : versionUs - 200_000 - ((n * 7919) % 2_800_000), n,
      };
      if (!root) root = id;
      batch.push([s, versionUs, !started]);
      if (started) pending.push({ s, dueAt: now + 1000 + Math.random() * 4000 });
    }
    pending.sort((a, b) => a.dueAt - b.dueAt);
    await insert(batch);
  }
  out.seconds = (Date.now() - start) / 1000;
  if (out.seconds > seconds * 1.1 + 2) process.stderr.write(`the writer ran ${out.seconds.toFixed(1)} s instead of ${seconds} s (INSERTs slower than the batch interval)\n`);
  const rest = pending.splice(0).map(({ s }): [LiveSpan, number, boolean] => [s, nowUs(), true]);
  out.updates += rest.length;
  await insert(rest);
  return out;
}

// ------------------------------------------------------------------------------------------------------------
// The pipeline

function connectorInput(fx: ConnectorFixture, ch: ClickHouseFixture, snapshot: 'initial' | 'no_data'): ConnectorConfigInput {
  return {
    source: { url: env.pgUrl, platform: 'langfuse', schema: fx.schema, tables: [], publication: { name: fx.name }, slot: { name: fx.name } },
    kafka: { brokers: env.kafkaBrokers, topicPrefix: fx.name, stateTopic: `${fx.name}.state` },
    registry: { url: env.registryUrl },
    clickhouse: ch.source({ pollIntervalMs: POLL_MS, snapshot: { mode: snapshot } }),
  };
}

async function startConnector(input: ConnectorConfigInput, metrics: ConnectorMetrics): Promise<{ connector: Connector; done: Promise<void> }> {
  const connector = new Connector(parseConnectorConfig(input), log, metrics);
  const done = connector.run();
  done.catch(() => undefined);
  for (const until = Date.now() + 120_000; connector.status !== 'RUNNING';) {
    if (connector.status === 'FAILED') await done;
    if (Date.now() > until) throw new Error(`the connector did not start (status ${connector.status})`);
    await sleep(50);
  }
  return { connector, done };
}

interface Env {
  fx: ConnectorFixture;
  ch: ClickHouseFixture;
  stops: Array<() => Promise<void>>;
  cleanup(): Promise<void>;
}

/** A Postgres schema (Langfuse's projects), slot and topic names, and a ClickHouse database of the same name with Langfuse v4's tables. */
async function benchEnv(prefix: string): Promise<Env> {
  const fx = await connectorFixture(prefix);
  const ch = await clickhouseFixture(prefix, 'v4', fx.name);
  await fx.db.query(`CREATE TABLE ${fx.schema}.projects (id text PRIMARY KEY, name text NOT NULL)`);
  for (const [i, id] of PROJECTS.entries()) await fx.db.query(`INSERT INTO ${fx.schema}.projects VALUES ($1, $2)`, [id, `project ${i}`]);
  const stops: Array<() => Promise<void>> = [];
  return {
    fx, ch, stops,
    async cleanup() {
      for (const stop of stops.reverse()) await stop().catch((err: unknown) => process.stderr.write(`stop: ${(err as Error).message}\n`));
      await ch.cleanup();
      const admin = kafkaAdmin();
      await cleanUp(fx.db, admin, fx.name).catch((err: unknown) => process.stderr.write(`clean-up: ${(err as Error).message}\n`));
      await admin.close();
      await fx.db.end();
    },
  };
}

// ------------------------------------------------------------------------------------------------------------
// 1. Freshness

interface MergeCommit {
  version: number;
  at: number;
  operation: string;
  /** a MERGE without WHEN MATCHED clauses (the sink's insert-only MERGE): it cannot change a row already there */
  insertOnly: boolean;
  adds: string[];
}

/** The table's Delta log on the local engine's disk: every commit with its file's write time, operation and added files. */
async function deltaCommits(wh: Warehouse, table: string): Promise<MergeCommit[]> {
  const [detail] = await wh.query<{ location: string }>(`DESCRIBE DETAIL ${table}`);
  const location = detail?.location ?? '';
  if (!location.startsWith('file:')) throw new Error(`${table} is at ${location}: freshness reads the Delta log from a local disk (the local stack's engine)`);
  const logDir = join(fileURLToPath(location.replace(/^file:\/*/, 'file:///')), '_delta_log');
  const out: MergeCommit[] = [];
  for (const name of readdirSync(logDir).filter((n) => /^\d{20}\.json$/.test(n))) {
    const c: MergeCommit = { version: Number(name.slice(0, 20)), at: statSync(join(logDir, name)).mtimeMs, operation: '', insertOnly: false, adds: [] };
    for (const line of readFileSync(join(logDir, name), 'utf8').split('\n')) {
      if (!line) continue;
      const action = JSON.parse(line) as { add?: { path: string }; commitInfo?: { operation?: string; operationParameters?: Record<string, string> } };
      if (action.add) c.adds.push(basename(decodeURIComponent(action.add.path)));
      if (action.commitInfo) {
        c.operation = action.commitInfo.operation ?? '';
        c.insertOnly = c.operation === 'MERGE' && ['[]', undefined].includes(action.commitInfo.operationParameters?.matchedPredicates);
      }
    }
    out.push(c);
  }
  return out.sort((a, b) => a.version - b.version);
}

interface FreshnessResult {
  write: WriteResult;
  /** per span, its final version: INSERT returned → visible in Delta; → read by a poll; read → visible */
  fresh: number[];
  toRead: number[];
  readToVisible: number[];
  missing: number;
  /** of the missing: Delta holds an earlier version of the span / the span is not in Delta at all; the connector read the final version */
  stale: number;
  absent: number;
  finalRead: number;
  /** rows whose data file was added by a commit earlier than the MERGE they were mapped to (0 when the mapping holds) */
  inconsistent: number;
  merges: number;
  insertOnlyMerges: number;
  polls: PollRecord[];
  behind: number[];
  cpu: CpuShare;
  drainSeconds: number;
}

async function freshness(round: number): Promise<FreshnessResult> {
  const e = await benchEnv('bench_chf');
  const { fx, ch } = e;
  const probe = new Probe();
  probe.table = '`events_full`';
  const metrics = new BenchMetrics(probe);
  const undo = instrumentReader(probe);
  const wh = await connectTestWarehouse();
  const target = `${fx.name}.events_full`;
  try {
    // a first span before the start (the first poll's snapshot) creates topic and Delta table outside the measurement
    const warm: LiveSpan = { project: PROJECTS[0]!, trace: 'warm'.padEnd(32, '0'), id: 'warm-up', parent: '', kind: 'SPAN', startUs: Date.now() * 1000, n: 0 };
    await ch.insert('events_full', [spanRow(warm, warm.startUs, true)]);
    const c = await startConnector(connectorInput(fx, ch, 'initial'), metrics);
    e.stops.push(async () => { await c.connector.stop(); await c.done; });
    const sink = new Sink(parseSinkConfig({ ...sinkConfig(fx.name, { batching: benchSinkBatching() }), platform: 'langfuse' }), log);
    const sDone = sink.run();
    sDone.catch(() => undefined);
    e.stops.push(async () => { await sink.stop(); await sDone; });
    for (const until = Date.now() + 300_000; ;) {
      if (await wh.query(`SELECT 1 FROM ${target} LIMIT 1`).then((r) => r.length > 0, () => false)) break;
      if (sink.status === 'FAILED') await sDone;
      if (c.connector.status === 'FAILED') await c.done;
      if (Date.now() > until) throw new Error(`the warm-up span did not reach ${target} within 300 s`);
      await sleep(1000);
    }
    await sleep(POLL_MS * 2);
    metrics.reset();
    const cpu = cpuWindow(CPU_PARTS);
    process.stdout.write(`freshness ${round}: writing ${RATE} rows/s for ${SECONDS} s…\n`);
    const write = await writeStream(ch, RATE, SECONDS, Date.now().toString(16));
    // nothing queries the warehouse while rows stream in; afterwards a light count every 2 s until every span is there, complete
    const writtenAt = Date.now();
    let last = '';
    let lastChange = Date.now();
    for (;;) {
      const [r] = await wh.query<{ n: string; e: string }>(`SELECT CAST(count(*) AS STRING) AS n, CAST(count_if(end_time IS NOT NULL) AS STRING) AS e FROM ${target} WHERE span_id <> 'warm-up'`);
      const seen = `${r!.n}/${r!.e}`;
      if (Number(r!.n) >= write.spans && Number(r!.e) >= write.spans) break;
      if (seen !== last) [last, lastChange] = [seen, Date.now()];
      if (c.connector.status === 'FAILED') await c.done;
      if (sink.status === 'FAILED') await sDone;
      // every span there but some still without their end: 60 s without a change means those ends are not coming
      const patience = Number(r!.n) >= write.spans ? 60_000 : 180_000;
      if (Date.now() - lastChange > patience || Date.now() - writtenAt > DRAIN_MS) {
        process.stderr.write(`freshness: ${r!.n} of ${write.spans} spans (${r!.e} ended) in Delta ${((Date.now() - writtenAt) / 1000).toFixed(0)} s after the writer stopped, `
          + `${Date.now() - lastChange > patience ? `no change for ${patience / 1000} s` : 'the drain limit (BENCH_CH_DRAIN_S)'}; measuring what is there\n`);
        break;
      }
      await sleep(2000);
    }
    const drainSeconds = (Date.now() - writtenAt) / 1000;
    const cpuShare = cpu();

    const commits = await deltaCommits(wh, target);
    const merges = commits.filter((m) => m.operation === 'MERGE');
    const fileAt = new Map<string, number>();
    for (const m of commits) for (const f of m.adds) fileAt.set(f, m.at);
    const rows = await wh.query<{ id: string; v: string; s: string; f: string }>(
      `SELECT span_id AS id, CAST(unix_micros(event_ts) AS STRING) AS v, CAST(unix_micros(_synced_at) AS STRING) AS s, input_file_name() AS f FROM ${target} WHERE span_id <> 'warm-up'`);
    const result: FreshnessResult = {
      write, fresh: [], toRead: [], readToVisible: [], missing: 0, stale: 0, absent: 0, finalRead: 0, inconsistent: 0, merges: merges.length, insertOnlyMerges: merges.filter((m) => m.insertOnly).length, polls: metrics.polls.filter((p) => p.table.endsWith('.events_full')),
      behind: metrics.behind, cpu: cpuShare, drainSeconds,
    };
    const seen = new Set<string>();
    for (const r of rows) {
      const versions = write.versions.get(r.id);
      const final = versions?.at(-1);
      if (!final || String(final[0]) !== r.v) continue; // not this run's span, or not (yet) its final version
      const synced = Number(r.s) / 1000;
      // the MERGE that wrote it: the first MERGE commit at or after its _synced_at
      let lo = 0;
      let hi = merges.length;
      while (lo < hi) { const mid = (lo + hi) >> 1; if (merges[mid]!.at < synced) lo = mid + 1; else hi = mid; }
      const visible = merges[lo]?.at;
      if (visible === undefined) continue;
      const added = fileAt.get(basename(decodeURIComponent(r.f)));
      if (added !== undefined && added < visible) result.inconsistent++;
      seen.add(r.id);
      result.fresh.push(visible - final[1]);
      const readAt = probe.readAt.get(`${r.id}|${final[0]}`);
      if (readAt !== undefined) {
        result.toRead.push(readAt - final[1]);
        result.readToVisible.push(visible - readAt);
      }
    }
    result.missing = write.spans - seen.size;
    const inDelta = new Map(rows.map((r) => [r.id, r.v]));
    for (const [id, versions] of write.versions) {
      if (seen.has(id)) continue;
      if (inDelta.has(id)) result.stale++;
      else result.absent++;
      if (probe.readAt.has(`${id}|${versions.at(-1)![0]}`)) result.finalRead++;
    }
    if (TRACE) {
      const missing = [...write.versions].filter(([id]) => !seen.has(id)).map(([id, vs]) => ({
        id, delta: inDelta.get(id) ?? null, versions: vs.map(([v, at]) => ({ v, insertReturned: at, readAt: probe.readAt.get(`${id}|${v}`) ?? null })),
      }));
      writeFileSync(`${TRACE}.freshness-${round}.json`, JSON.stringify({ database: ch.database, polls: metrics.polls, batches: write.batchLog, merges, missing }, null, 1));
    }
    return result;
  } finally {
    undo();
    if (KEEP) {
      process.stderr.write(`BENCH_CH_KEEP: left ClickHouse database, Delta schema, slot and topics ${fx.name} (drop them by hand)\n`);
      for (const stop of e.stops.reverse()) await stop().catch(() => undefined);
      await wh.close();
      await fx.db.end();
    } else {
      await wh.query(`DROP SCHEMA IF EXISTS ${fx.name} CASCADE`).catch(() => undefined);
      await wh.close();
      await e.cleanup();
    }
  }
}

// ------------------------------------------------------------------------------------------------------------
// 2. Rows read per poll on a large table

/** `count` events_full rows numbered from `first`, generated by the engine: six spans a trace, start_time over the 90 days before `endUs`. */
function fillQuery(db: string, first: number, count: number, total: number, endUs: number): string {
  const startUs = endUs - 90 * DAY_US;
  const st = `fromUnixTimestamp64Micro(toInt64(${startUs}) + intDiv(toInt64(number) * ${90 * DAY_US}, ${total}))`;
  return `INSERT INTO ${db}.events_full (project_id, trace_id, span_id, parent_span_id, start_time, end_time, name, type, trace_name, user_id,
      session_id, tags, level, provided_model_name, model_parameters, usage_details, cost_details, input, output, metadata_names, metadata_values,
      source, created_at, updated_at, event_ts, is_deleted)
    SELECT ['${PROJECTS.join("','")}'][1 + number % ${PROJECTS.length}], lower(hex(MD5(toString(intDiv(number, 6))))),
      lower(hex(substring(MD5(toString(number)), 1, 8))),
      if(number % 6 = 0, '', lower(hex(substring(MD5(toString(number - number % 6)), 1, 8)))),
      ${st}, addMilliseconds(${st}, 200 + number % 3000), ['ChatCompletion', 'retrieve', 'tool-call'][1 + number % 3],
      ['SPAN', 'GENERATION', 'GENERATION', 'TOOL', 'EVENT', 'SPAN'][1 + number % 6], concat('trace ', toString(intDiv(number, 6) % 1000)),
      concat('user-', toString(number % 5000)), concat('session-', toString(intDiv(number, 60))), ['prod'], 'DEFAULT', 'gpt-4o',
      '{"temperature":0.2}', map('input', toUInt64(number % 2000), 'output', toUInt64(number % 300), 'total', toUInt64(number % 2000 + number % 300)),
      map('total', toDecimal64(0.0123, 12)), concat('{"messages":[{"role":"user","content":"question ', toString(number), '"}]}'),
      concat('answer ', toString(number)), ['env'], ['prod'], 'otel', ${st}, addMilliseconds(${st}, 200 + number % 3000),
      addMilliseconds(${st}, 200 + number % 3000), 0
    FROM numbers(${first}, ${count})`;
}

interface PollCostResult {
  fillSeconds: number;
  chunkSeconds: number[];
  settleSeconds: number;
  tables: Array<{ table: string; rows: number; bytes: number; parts: number }>;
  partitions: Array<{ partition: string; parts: number; rows: number }>;
  write: WriteResult;
  polls: PollRecord[];
  partRows: Map<string, number>;
  cpu: CpuShare;
}

async function pollCost(): Promise<PollCostResult> {
  const e = await benchEnv('bench_chp');
  const { fx, ch } = e;
  const probe = new Probe();
  const metrics = new BenchMetrics(probe);
  const undo = instrumentReader(probe);
  try {
    const db = ch.database;
    const endUs = Date.now() * 1000 - 60_000_000;
    process.stdout.write(`poll cost: filling ${db}.events_full with ${ROWS} rows (${CHUNK} per INSERT)…\n`);
    const chunkSeconds: number[] = [];
    // its own client: a 1M-row INSERT … SELECT runs about as long as the client's default request timeout (30 s)
    const stackCh = clickhouseStack();
    const filler = createClient({ url: stackCh.url, username: stackCh.user, password: stackCh.password, request_timeout: 3_600_000, clickhouse_settings: { session_timezone: 'UTC' } });
    const fill0 = performance.now();
    try {
      for (let first = 0; first < ROWS; first += CHUNK) {
        const t0 = performance.now();
        await filler.command({ query: fillQuery(db, first, Math.min(CHUNK, ROWS - first), ROWS, endUs) });
        chunkSeconds.push((performance.now() - t0) / 1000);
        process.stdout.write(`  ${Math.min(first + CHUNK, ROWS)} rows (${chunkSeconds.at(-1)!.toFixed(1)} s)\n`);
      }
    } finally {
      await filler.close();
    }
    const fillSeconds = (performance.now() - fill0) / 1000;
    // merges of the fill's parts settle before the measurement (a table that has been written for a while)
    const settle0 = performance.now();
    for (const until = Date.now() + 600_000; Date.now() < until;) {
      const [m] = await ch.rows<{ n: string }>(`SELECT toString(count()) AS n FROM system.merges WHERE database = '${db}'`);
      if (Number(m!.n) === 0) break;
      await sleep(2000);
    }
    const settleSeconds = (performance.now() - settle0) / 1000;
    const tables = (await ch.rows<{ table: string; rows: string; bytes: string; parts: string }>(
      `SELECT table, toString(sum(rows)) AS rows, toString(sum(bytes_on_disk)) AS bytes, toString(count()) AS parts FROM system.parts
        WHERE database = '${db}' AND active GROUP BY table ORDER BY table`)).map((t) => ({ table: t.table, rows: Number(t.rows), bytes: Number(t.bytes), parts: Number(t.parts) }));
    const partitions = (await ch.rows<{ partition: string; parts: string; rows: string }>(
      `SELECT partition_id AS partition, toString(count()) AS parts, toString(sum(rows)) AS rows FROM system.parts
        WHERE database = '${db}' AND table = 'events_full' AND active GROUP BY partition_id ORDER BY partition_id`))
      .map((p) => ({ partition: p.partition, parts: Number(p.parts), rows: Number(p.rows) }));
    process.stdout.write(`  filled in ${fillSeconds.toFixed(1)} s; merges settled ${settleSeconds.toFixed(1)} s later; ${tables.map((t) => `${t.table} ${int(t.rows)} rows ${(t.bytes / 2 ** 20).toFixed(0)} MiB ${t.parts} parts`).join('; ')}\n`);

    const c = await startConnector(connectorInput(fx, ch, 'no_data'), metrics);
    e.stops.push(async () => { await c.connector.stop(); await c.done; });
    await sleep(POLL_MS * 2);
    metrics.reset();
    const cpu = cpuWindow(CPU_PARTS);
    process.stdout.write(`poll cost: writing ${STREAM_RATE} rows/s for ${SECONDS} s…\n`);
    const write = await writeStream(ch, STREAM_RATE, SECONDS, Date.now().toString(16));
    await sleep(POLL_MS * 3 + 1000);
    const cpuShare = cpu();
    if (c.connector.status === 'FAILED') await c.done;
    if (TRACE) writeFileSync(`${TRACE}.poll.json`, JSON.stringify({ database: db, polls: metrics.polls, batches: write.batchLog, partRows: [...probe.partRows] }, null, 1));
    return {
      fillSeconds, chunkSeconds, settleSeconds, tables, partitions, write, cpu: cpuShare,
      polls: metrics.polls.filter((p) => p.table.endsWith('.events_full')), partRows: probe.partRows,
    };
  } finally {
    undo();
    await e.cleanup();
  }
}

// ------------------------------------------------------------------------------------------------------------
// Summaries

interface PollSummary {
  polls: number;
  reading: number;
  pollMs: number[];
  rowsRead: number[];
  ratio: number[];
  mergedPolls: number;
  mergedParts: number;
  mergedRows: number;
  largestMerged: number;
  events: number;
  rowsReadTotal: number;
  catalogMs: number;
  readMs: number;
}

function summarizePolls(polls: PollRecord[], partRows: Map<string, number>): PollSummary {
  const s: PollSummary = {
    polls: polls.length, reading: 0, pollMs: [], rowsRead: [], ratio: [], mergedPolls: 0, mergedParts: 0, mergedRows: 0, largestMerged: 0,
    events: 0, rowsReadTotal: 0, catalogMs: 0, readMs: 0,
  };
  for (const p of polls) {
    s.pollMs.push(p.queries.reduce((n, q) => n + q.ms, 0));
    s.rowsRead.push(p.rowsRead);
    s.ratio.push(p.tableRows > 0 ? p.rowsRead / p.tableRows : 0);
    s.events += p.events;
    s.rowsReadTotal += p.rowsRead;
    if (p.rowsRead > 0) s.reading++;
    for (const q of p.queries) (q.kind === 'read' || q.kind === 'follow' ? (s.readMs += q.ms) : (s.catalogMs += q.ms));
    const merged = p.queries.filter((q) => q.kind === 'read').flatMap((q) => q.parts).filter(isMerged);
    if (merged.length > 0) s.mergedPolls++;
    s.mergedParts += merged.length;
    for (const name of merged) {
      const rows = partRows.get(name) ?? 0;
      s.mergedRows += rows;
      s.largestMerged = Math.max(s.largestMerged, rows);
    }
  }
  return s;
}

/** The commit measured, and whether the tree had changes on top of it. */
function codeVersion(): string {
  const git = (...a: string[]) => execFileSync('git', ['-C', ROOT, ...a], { encoding: 'utf8' }).trim();
  try {
    const dirty = git('status', '--porcelain', '--untracked-files=no', '--', 'sources', 'sink', 'emitter', 'connector', 'schemas', 'runtime') !== '';
    return `${git('rev-parse', '--short', 'HEAD')}${dirty ? ' with uncommitted changes in sources/sink/emitter' : ''}`;
  } catch {
    return 'an unknown commit';
  }
}

/** --clean-up: drops what interrupted runs of this bench left (everything named bench_chf_… or bench_chp_…). */
async function cleanUpLeftovers(): Promise<void> {
  const probe = await clickhouseFixture('bench_chf', 'none', 'bench_chf_cleanup');
  const wh = await connectTestWarehouse();
  const admin = kafkaAdmin();
  const fx = await connectorFixture('bench_chf_cleanup');
  try {
    for (const prefix of ['bench_chf_', 'bench_chp_']) {
      for (const { name } of await probe.rows<{ name: string }>(`SELECT name FROM system.databases WHERE startsWith(name, '${prefix}')`)) {
        if (name !== probe.database) await probe.exec(`DROP DATABASE IF EXISTS ${name}`);
      }
      for (const r of await wh.query<Record<string, string>>(`SHOW SCHEMAS LIKE '${prefix}*'`)) {
        const name = Object.values(r)[0]!;
        await wh.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
      }
      await cleanUp(fx.db, admin, prefix);
    }
  } finally {
    await admin.close();
    await wh.close();
    await fx.db.end();
    await probe.cleanup();
  }
}

async function main(): Promise<void> {
  if (args['clean-up']) {
    await cleanUpLeftovers();
    process.stdout.write('dropped what earlier runs left (bench_chf_*, bench_chp_*)\n');
    return;
  }
  const startedAt = performance.now();
  const load = [load1()];
  const lines: string[] = [`## ClickHouse source: freshness and rows read per poll — ${today()} (issue 21)`, '',
    `Machine: ${machine()}; the stack's ClickHouse (ClickHouse 26.9 of chdb-core behind the HTTP front, one query at a time), Kafka,`,
    'the registry, Postgres and Spark on the same cores. Langfuse v4 schema (test/fixtures/langfuse-clickhouse: events_full with its',
    'skip and full-text indexes, and events_core filled by its materialized view). Connector and sink in the bench process, on their',
    `defaults except \`clickhouse.pollIntervalMs: ${POLL_MS}\`; the connector reads as the stack's read-only user. bench/clickhouse-source.ts`,
    `(${REPEATS > 1 ? `freshness: ${REPEATS} runs, rows read per poll: one run` : 'one run of each measurement'}), code at ${codeVersion()}.`, ''];

  if (PARTS.includes('freshness')) {
    const rounds: FreshnessResult[] = [];
    for (let r = 1; r <= REPEATS; r++) {
      const f = await freshness(r);
      rounds.push(f);
      load.push(load1());
      const fresh = sorted(f.fresh);
      process.stdout.write(`freshness ${r}: ${f.fresh.length} spans, p50 ${sec(pct(fresh, 50))}, p95 ${sec(pct(fresh, 95))}, max ${sec(fresh.at(-1) ?? NaN)}; missing ${f.missing}, inconsistent ${f.inconsistent}\n`);
    }
    const goalMs = POLL_MS + 5000;
    const rows = rounds.map((f, i) => {
      const fresh = sorted(f.fresh);
      const toRead = sorted(f.toRead);
      const after = sorted(f.readToVisible);
      const behind = sorted(f.behind);
      const ins = sorted(f.write.insertMs);
      const p95 = pct(fresh, 95);
      return `| ${i + 1} | ${int(f.write.rows / f.write.seconds)} rows/s × ${f.write.seconds.toFixed(0)} s (${int(f.write.spans)} spans, ${int(f.write.updates)} end updates, ${f.write.batches} INSERTs, INSERT p50 ${ins.length ? pct(ins, 50).toFixed(0) : '-'} / p95 ${ins.length ? pct(ins, 95).toFixed(0) : '-'} ms) `
        + `| ${int(f.fresh.length)}${f.missing ? ` (${f.missing} not seen)` : ''} | ${sec(pct(fresh, 50))} | ${sec(p95)} | ${sec(pct(fresh, 99))} | ${sec(fresh.at(-1) ?? NaN)} `
        + `| ${p95 <= goalMs ? 'met' : '**not met**'} | ${sec(pct(toRead, 50))} / ${sec(pct(toRead, 95))} | ${sec(pct(after, 50))} / ${sec(pct(after, 95))} `
        + `| ${behind.length ? `${sec(pct(behind, 50))} / ${sec(pct(behind, 95))} / ${sec(behind.at(-1)!)}` : '-'} |`;
    });
    lines.push(`**Freshness at ${RATE} rows/s** (${REPEATS} run${REPEATS > 1 ? 's' : ''}, each on a fresh database): a writer inserts events_full rows (input ~2–3.5 KB, output ~1–2 KB) in a batch every`,
      '100–200 ms, or at once when an INSERT took longer (Langfuse\'s async-insert flushes; plain INSERTs here: the front runs one query at a time,',
      'so an INSERT waiting for an async-insert flush would hold up every other query); ~30% of spans are',
      'written first as started (no output, no end_time) and again 1–5 s later complete, with a later event_ts. Freshness: from the INSERT of',
      'a span\'s final version returning to the Delta commit that made that version visible (the write time of the first MERGE commit of',
      '`events_full` at or after the row\'s `_synced_at`; nothing queries the warehouse while rows stream in). "→ read": INSERT returned → the',
      'poll that read the row; "read →": poll → Delta. behind source: the connector\'s `tracelake_connector_milliseconds_behind_source`',
      `observations (Kafka ack − newest event_ts of the poll). Goal: p95 ≤ pollInterval + 5 s = ${sec(goalMs)}. Sink on its defaults (maxWaitMs 2 s).`, '',
      '| run | load | spans measured | p50 | p95 | p99 | max | goal | → read p50 / p95 | read → Delta p50 / p95 | behind source p50 / p95 / max |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |', ...rows, '');
    for (const [i, f] of rounds.entries()) {
      const s = summarizePolls(f.polls, new Map());
      const pollMs = sorted(s.pollMs);
      const resent = s.events - f.write.rows;
      const whole = f.polls.filter((p) => p.rowsRead > 0 && p.rowsRead >= 0.9 * p.tableRows).length;
      lines.push(`- run ${i + 1}: ${s.polls} polls of events_full (${s.reading} read rows; ${whole} of those read ≥ 90% of the table); rows read per poll ÷ table rows: mean ${(mean(s.ratio) * 100).toFixed(1)}%, `
        + `max ${((sorted(s.ratio).at(-1) ?? 0) * 100).toFixed(1)}%; ${int(s.rowsReadTotal)} rows read and ${int(s.events)} events sent for ${int(f.write.rows)} rows written (${int(resent)} sent again, from merged parts); `
        + `${s.mergedPolls} polls read a merged part. ClickHouse round trips per poll p50 ${pollMs.length ? pct(pollMs, 50).toFixed(0) : '-'} ms, p95 ${pollMs.length ? pct(pollMs, 95).toFixed(0) : '-'} ms `
        + `(catalog queries ${(s.catalogMs / 1000).toFixed(1)} s, part reads ${(s.readMs / 1000).toFixed(1)} s in all). Delta: ${f.merges} MERGE commits, ${f.insertOnlyMerges} of them insert-only; `
        + `last span in Delta ${f.drainSeconds.toFixed(1)} s after the writer stopped.`
        + `${f.missing > 0 ? ` **${int(f.missing)} spans never showed their final version in Delta**: ${int(f.stale)} with an earlier version there, ${int(f.absent)} not there at all; the connector had read the final version of ${int(f.finalRead)} of them.` : ''}`
        + `${f.inconsistent > 0 ? ` **${f.inconsistent} rows in a data file added before the MERGE they were mapped to** (the visibility mapping does not hold).` : ''}`
        + ` Cores: ${formatCpu(f.cpu)}.`);
    }
    lines.push('');
  }

  if (PARTS.includes('poll')) {
    const p = await pollCost();
    load.push(load1());
    const s = summarizePolls(p.polls, p.partRows);
    const ratio = sorted(s.ratio);
    const rowsRead = sorted(s.rowsRead);
    const pollMs = sorted(s.pollMs);
    const full = p.tables.find((t) => t.table === 'events_full');
    const core = p.tables.find((t) => t.table === 'events_core');
    const pctText = (x: number) => `${(x * 100).toFixed(4)}%`;
    const written = p.write.rows;
    const perSecond = written / p.write.seconds;
    // polls that read far more than was inserted between the previous poll's part listing and theirs (merged parts read again)
    const listedAt = (x: PollRecord) => x.queries.find((q) => q.kind === 'parts')?.at ?? x.at;
    let heavy = 0;
    let excess = 0;
    for (let i = 1; i < p.polls.length; i++) {
      const [from, to] = [listedAt(p.polls[i - 1]!), listedAt(p.polls[i]!)];
      const inserted = p.write.batchLog.filter(([at]) => at > from && at <= to).reduce((n, [, k]) => n + k, 0);
      if (p.polls[i]!.rowsRead > Math.max(10, 3 * inserted)) heavy++;
      excess += Math.max(0, p.polls[i]!.rowsRead - inserted);
    }
    process.stdout.write(`poll cost: ${s.polls} polls; rows read per poll mean ${mean(s.rowsRead).toFixed(0)}, p95 ${pct(rowsRead, 95)}, max ${rowsRead.at(-1)}; ratio mean ${pctText(mean(s.ratio))}, p95 ${pctText(pct(ratio, 95))}, max ${pctText(ratio.at(-1) ?? NaN)}\n`);
    lines.push(`**Rows read per poll on a ${int(ROWS)}-row events_full.** Filled server-side (\`INSERT … SELECT … FROM numbers()\`, ${int(CHUNK)} rows per INSERT,`,
      `small strings, start_time spread over the 90 days before the run): ${p.fillSeconds.toFixed(0)} s (${int(ROWS / p.fillSeconds)} rows/s; per INSERT ${p.chunkSeconds.map((x) => x.toFixed(0)).join(', ')} s), merges settled ${p.settleSeconds.toFixed(0)} s later.`,
      `On disk: events_full ${full ? `${(full.bytes / 2 ** 20).toFixed(0)} MiB in ${full.parts} parts` : '-'}, events_core (its materialized view) ${core ? `${(core.bytes / 2 ** 20).toFixed(0)} MiB in ${core.parts} parts` : '-'};`,
      `partitions ${p.partitions.map((x) => `${x.partition}: ${int(x.rows)} rows in ${x.parts} parts`).join(', ')}. Then the connector (\`snapshot.mode: no_data\`, no sink)`,
      `and a stream of ${int(perSecond)} rows/s for ${p.write.seconds.toFixed(0)} s (${int(written)} rows, as above: batches every 100–200 ms, ~30% end updates; start_time now, the`,
      'current partition). Rows read: ClickHouse\'s own statistics of the poll\'s reads (`tracelake_connector_source_last_poll_rows_read`), against',
      'the rows in the table\'s active parts at that poll (`…_source_table_rows`). A merged part read: a part spanning several INSERTs\' blocks,',
      'read whole because a merge put a block no poll had taken yet into it; the rows in it taken before are read and sent again.', '',
      '| polls | rows read per poll: mean / p95 / max | of the table: mean / p95 / max | goal < 1% | polls reading a merged part | rows of merged parts read | polls reading > 3× what was inserted since the last | rows read ÷ rows written | ClickHouse round trips per poll p50 / p95 |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      `| ${s.polls} (${s.reading} read rows) | ${mean(s.rowsRead).toFixed(0)} / ${pct(rowsRead, 95)} / ${rowsRead.at(-1) ?? '-'} | ${pctText(mean(s.ratio))} / ${pctText(pct(ratio, 95))} / ${pctText(ratio.at(-1) ?? NaN)} `
        + `| ${(ratio.at(-1) ?? 1) < 0.01 ? 'met' : pct(ratio, 95) < 0.01 ? 'met at p95, not at max' : '**not met**'} | ${s.mergedPolls} (${s.mergedParts} parts) | ${int(s.mergedRows)} (largest ${int(s.largestMerged)}) | ${heavy} `
        + `| ${(s.rowsReadTotal / Math.max(1, written)).toFixed(2)} | ${pollMs.length ? `${pct(pollMs, 50).toFixed(0)} / ${pct(pollMs, 95).toFixed(0)} ms` : '-'} |`, '',
      `Events sent: ${int(s.events)} for ${int(written)} rows written; rows read beyond what was inserted since the poll before: ${int(excess)}. ClickHouse round trips in all: catalog queries (per table and poll: system.mutations, system.parts with the metadata time, and system.parts again after a read) ${(s.catalogMs / 1000).toFixed(1)} s, part reads ${(s.readMs / 1000).toFixed(1)} s.`,
      `Cores during the stream: ${formatCpu(p.cpu)}.`, '');
  }
  lines.push(`1-min load average before / after each measurement: ${load.join(' / ')}. Whole run: ${((performance.now() - startedAt) / 1000).toFixed(0)} s.`);
  appendResults(lines);
}

main().then(() => process.exit(0), (err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
