// Sink benchmarks on the local Delta engine: (1) MERGE throughput by batch size, inserts and updates (with
// and without unchanged-TOAST columns), through the sink's own planner and client; (2) end-to-end freshness,
// Postgres commit → row visible in Delta (its Delta commit), at a steady write rate with the default flush interval.
// Appends to docs/benchmarks.md. Run: make bench-sink (the stack must be up).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import pino from 'pino';
import { stack } from '../scripts/stack/stack-env.ts';
import { connectWarehouse, type Warehouse } from '../sink/src/warehouse/databricks-client.ts';
import { deltaType } from '../sink/src/delta/column-types.ts';
import { planMerges, type PlanColumn, type TablePlanInput } from '../sink/src/plan/merge-plan.ts';
import { createTable, createTombstones } from '../sink/src/plan/ddl.ts';
import type { FoldedRow } from '../sink/src/fold/fold-batch.ts';
import type { TableEvent } from '../sink/src/decode/table-event.ts';
import { appendResults, benchSinkBatching, machine, today } from './lib/harness.ts';
import { sqlIdent } from '../sink/src/sql/literals.ts';
import { Connector } from '../connector/src/connector.ts';
import { parseConnectorConfig } from '../connector/src/config.ts';
import { Sink } from '../sink/src/sink.ts';
import { DEFAULT_TABLE_PROPERTIES, parseSinkConfig, sinkConfigSchema } from '../sink/src/config.ts';

const env = stack();
const RUN = `bench_${Date.now().toString(36)}`;
const SIZES = (process.env.BENCH_MERGE_SIZES ?? '1000,10000,100000').split(',').map(Number);
const RATES = (process.env.BENCH_RATES ?? '1000,5000').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const log = pino({ level: 'warn' });
/** the sink's batching in every measurement here: its defaults unless BENCH_SINK_BATCHING says otherwise */
const BATCHING = sinkConfigSchema.shape.batching.parse(benchSinkBatching());

const columns: PlanColumn[] = ([
  ['id', 'long', true], ['trace_id', 'string', false], ['name', 'string', false], ['attributes', 'string', false],
  ['start_time', { type: 'long', logicalType: 'timestamp-micros' }, false], ['tokens', 'int', false],
] as const).map(([name, avro, isKey]) => ({ field: name, name, isKey, type: deltaType(avro as never, name) }));

/** `n` rows with keys from `first`; `op` is the event they fold from ('c' makes an insert-only batch). */
function rows(n: number, pass: number, unchangedAttributes: boolean, first = 0, op: TableEvent['op'] = 'u'): FoldedRow[] {
  const attrs = 'x'.repeat(900);
  return Array.from({ length: n }, (_, k) => first + k).map((i) => ({
    keyJson: String(i), op: 'upsert' as const,
    values: { id: BigInt(i), trace_id: `t${i % 97}`, name: `span ${pass}`, attributes: unchangedAttributes ? null : `{"p":"${attrs}","i":${i}}`, start_time: 1_700_000_000_000_000n + BigInt(i), tokens: i % 500 },
    unchanged: new Set(unchangedAttributes ? ['attributes'] : []),
    commitLsn: BigInt(pass * 1_000_000 + i), seq: 0n, sourceTsMs: 0n, events: [{ op } as TableEvent],
  }));
}

async function mergeThroughput(): Promise<string[]> {
  const wh = await connectWarehouse({ ...env.warehouse, auth: { token: env.warehouse.token } });
  await wh.query(`CREATE SCHEMA IF NOT EXISTS ${RUN}`);
  const { maxStatementBytes, maxStatementRows } = BATCHING;
  const out: string[] = [];
  try {
    // warm-up: the engine's first MERGEs after a start include JIT and catalog loading
    const warm: TablePlanInput = { target: `${RUN}.warm`, tombstones: `${RUN}.warm_t`, staged: `${RUN}.warm_s`, columns, deleteMode: 'hard', maxStatementBytes, maxStatementRows };
    await wh.query(createTable({ ...warm, clusterBy: [], properties: DEFAULT_TABLE_PROPERTIES }, columns));
    await wh.query(createTombstones({ ...warm, clusterBy: [], properties: DEFAULT_TABLE_PROPERTIES }, columns));
    for (let pass = 1; pass <= 3; pass++) for (const sql of planMerges(warm, rows(1000, pass, false))) await wh.query(sql);
    for (const n of SIZES) {
      const target = `${RUN}.${sqlIdent(`m${n}`)}`;
      const plan: TablePlanInput = { target, tombstones: `${RUN}.${sqlIdent(`m${n}_t`)}`, staged: `${RUN}.${sqlIdent(`m${n}_s`)}`, columns, deleteMode: 'hard', maxStatementBytes, maxStatementRows };
      await wh.query(createTable({ ...plan, clusterBy: [], properties: DEFAULT_TABLE_PROPERTIES }, columns));
      await wh.query(createTombstones({ ...plan, clusterBy: [], properties: DEFAULT_TABLE_PROPERTIES }, columns));
      const cells: string[] = [];
      // keys 0..n-1 arrive as inserts (insert-only MERGE), keys n..2n-1 as updates of keys not there yet (full
      // MERGE inserting them), then keys 0..n-1 are updated twice
      const passes = [[1, 'insert, insert-only MERGE', false, 0, 'c'], [1, 'insert, full MERGE', false, n, 'u'],
        [2, 'update', false, 0, 'u'], [3, 'update, TOAST unchanged', true, 0, 'u']] as const;
      for (const [pass, label, unchanged, first, op] of passes) {
        const statements = [...planMerges(plan, rows(n, pass, unchanged, first, op))];
        const t0 = performance.now();
        for (const sql of statements) await wh.query(sql);
        const s = (performance.now() - t0) / 1000;
        cells.push(`${Math.round(n / s)} rows/s (${s.toFixed(1)} s, ${statements.length} stmt)`);
        process.stdout.write(`merge ${n} ${label}: ${cells.at(-1)}\n`);
      }
      out.push(`| ${n} | ${cells.join(' | ')} |`);
    }
  } finally {
    await wh.query(`DROP SCHEMA IF EXISTS ${RUN} CASCADE`).catch(() => undefined);
    await wh.close();
  }
  return out;
}

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

/**
 * When each row of `table` became visible: the write time of the Delta commit file whose `add` action holds the
 * row's data file (Delta readers see a version once its commit file exists). Reads the table's log on the local
 * disk of the local engine, so it needs the local stack; throws when a row's file is in no commit.
 */
async function deltaVisibility(wh: Warehouse, table: string): Promise<Map<number, number>> {
  const [detail] = await wh.query<{ location: string }>(`DESCRIBE DETAIL ${table}`);
  const location = detail?.location ?? '';
  if (!location.startsWith('file:')) throw new Error(`${table} is at ${location}: freshness reads the Delta log from a local disk (the local stack's engine)`);
  const logDir = join(fileURLToPath(location.replace(/^file:\/*/, 'file:///')), '_delta_log');
  const fileAt = new Map<string, number>();
  for (const name of readdirSync(logDir).filter((n) => /^\d{20}\.json$/.test(n))) {
    const at = statSync(join(logDir, name)).mtimeMs;
    for (const line of readFileSync(join(logDir, name), 'utf8').split('\n')) {
      if (!line) continue;
      const action = JSON.parse(line) as { add?: { path: string } };
      if (action.add) fileAt.set(basename(decodeURIComponent(action.add.path)), at);
    }
  }
  const out = new Map<number, number>();
  for (const r of await wh.query<{ id: number; f: string }>(`SELECT CAST(id AS BIGINT) AS id, input_file_name() AS f FROM ${table} WHERE id > 0`)) {
    const at = fileAt.get(basename(decodeURIComponent(r.f)));
    if (at === undefined) throw new Error(`row ${r.id} of ${table} is in ${r.f}, which no commit of its log adds`);
    out.set(Number(r.id), at);
  }
  return out;
}

async function freshness(RATE: number): Promise<string> {
  const run = `${RUN}_${RATE}`; // each rate its own slot, topics and state
  const db = new pg.Client({ connectionString: env.pgUrl });
  await db.connect();
  await db.query(`CREATE SCHEMA ${run}`);
  await db.query(`CREATE TABLE ${run}.spans (id bigint PRIMARY KEY, name text, attributes jsonb, start_time timestamptz)`);
  const connector = new Connector(parseConnectorConfig({
    source: { url: env.pgUrl, tables: [`${run}.spans`], publication: { name: run }, slot: { name: run } },
    kafka: { brokers: env.kafkaBrokers, topicPrefix: run, stateTopic: `${run}-state` }, registry: { url: env.registryUrl },
  }), log);
  const sinkCfg = parseSinkConfig({
    kafka: { brokers: env.kafkaBrokers, groupId: `${run}-sink`, topicPrefix: run }, registry: { url: env.registryUrl }, batching: BATCHING,
    warehouse: { host: env.warehouse.host, port: env.warehouse.port, path: env.warehouse.path, token: env.warehouse.token, caCertFile: env.warehouse.caFile, schema: run },
  });
  // BENCH_SINK_LOG=<file>: the sink's debug log (one line per merged batch: events, rows, ms)
  const sink = new Sink(sinkCfg, process.env.BENCH_SINK_LOG ? pino({ level: 'debug' }, pino.destination(process.env.BENCH_SINK_LOG)) : log);
  const cDone = connector.run();
  const sDone = sink.run();
  const wh = await connectWarehouse({ ...env.warehouse, auth: { token: env.warehouse.token } });
  const committedAt = new Map<number, number>();
  const latencies: number[] = [];
  try {
    while (connector.status !== 'RUNNING') await new Promise((r) => setTimeout(r, 50));
    // a first row creates the topic and the table, outside the measurement
    await db.query(`INSERT INTO ${run}.spans VALUES (0, 'warm-up', '{}', now())`);
    for (let ok = false; !ok;) {
      ok = await wh.query(`SELECT 1 FROM ${run}.spans`).then((r) => r.length > 0, () => false);
      await new Promise((r) => setTimeout(r, 500));
    }
    let id = 1;
    const start = Date.now();
    const writer = (async () => {
      // transactions of rate/10 rows every 100 ms
      const per = Math.max(1, Math.round(RATE / 10));
      for (let tick = 0; Date.now() - start < SECONDS * 1000; tick++) {
        const due = start + tick * 100;
        if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
        const first = id;
        id += per;
        await db.query(`INSERT INTO ${run}.spans SELECT g, 'span', '{"k": "v"}', now() FROM generate_series($1::bigint, $2::bigint) g`, [first, id - 1]);
        const at = Date.now();
        for (let i = first; i < id; i++) committedAt.set(i, at);
      }
    })();
    await writer;
    // nothing queries the engine while the rows stream in (a reader polling it competes with the MERGEs for
    // the same two cores); afterwards, wait until every row is there (a light count every 2 s)
    for (const until = Date.now() + 180_000; Date.now() < until;) {
      const [{ n }] = await wh.query<{ n: number }>(`SELECT count(*) AS n FROM ${run}.spans WHERE id > 0`) as [{ n: number }];
      if (Number(n) >= id - 1) break;
      await new Promise((r) => setTimeout(r, 2000));
    }
    // a row is visible from the Delta commit that added its file: the commit file's write time
    const visibleAt = await deltaVisibility(wh, `${run}.spans`);
    for (const [rowId, at] of visibleAt) {
      const c = committedAt.get(rowId);
      if (c !== undefined) latencies.push(at - c);
    }
  } finally {
    await connector.stop(); await cDone.catch(() => undefined);
    await sink.stop(); await sDone.catch(() => undefined);
    await wh.query(`DROP SCHEMA IF EXISTS ${run} CASCADE`).catch(() => undefined);
    await wh.close();
    await db.query('SELECT pg_drop_replication_slot($1)', [run]).catch(() => undefined);
    await db.query(`DROP PUBLICATION IF EXISTS ${run}`);
    await db.query(`DROP SCHEMA ${run} CASCADE`);
    await db.end();
  }
  latencies.sort((a, b) => a - b);
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const line = `| ${RATE} ev/s × ${SECONDS} s | ${latencies.length} | ${s(pct(latencies, 50))} | ${s(pct(latencies, 95))} | ${s(pct(latencies, 99))} | ${s(latencies.at(-1) ?? 0)} | ${sinkCfg.batching.maxWaitMs / 1000} s |`;
  process.stdout.write(`${line}\n`);
  return line;
}

/** The local engine's pinned versions (scripts/lib.sh), e.g. 'Spark 4.2.0 + Delta 4.4.0'. */
function engine(): string {
  const lib = readFileSync(fileURLToPath(new URL('../scripts/lib.sh', import.meta.url)), 'utf8');
  const pin = (name: string) => new RegExp(`^${name}=(\\S+)`, 'm').exec(lib)![1]!;
  return `Spark ${pin('TL_PYSPARK_VERSION')} + Delta ${pin('TL_DELTA_VERSION')}`;
}

async function main(): Promise<void> {
  const which = process.env.BENCH_SINK_PARTS ?? 'merge,freshness';
  const merge = which.includes('merge') ? await mergeThroughput() : [];
  const fresh: string[] = [];
  if (which.includes('freshness')) for (const rate of RATES) fresh.push(await freshness(rate));
  const parts = [`## Sink — ${today()}`, '', `Machine: ${machine()}; Spark (local[2]), Kafka and Postgres on the same cores.`, ''];
  if (merge.length) {
    parts.push(`MERGE throughput through the sink planner and \`@databricks/sql\` into the local ${engine()}`,
      `(span-like rows of ~1 KB, hard deletes, MERGE statements of ≤ ${BATCHING.maxStatementBytes / 2 ** 20} MB and ≤ ${BATCHING.maxStatementRows} rows). Insert = new keys, as an`,
      'insert-only MERGE (a batch of inserts) and as the full MERGE (a batch with other changes); update = every key matched.', '',
      '| batch rows | insert, insert-only MERGE | insert, full MERGE | update | update, TOAST-unchanged column kept |', '| --- | --- | --- | --- | --- |', ...merge, '');
  }
  if (fresh.length) {
    parts.push('Freshness: Postgres commit → the Delta commit that makes the row visible (the write time of the commit file',
      'whose `add` holds the row\'s data file; no reader polls the engine during the run), connector and sink in one',
      'process with default settings; inserts in transactions of rate/10 rows every 100 ms.', '',
      '| load | rows observed | p50 | p95 | p99 | max | sink flush interval |', '| --- | --- | --- | --- | --- | --- | --- |', ...fresh, '');
  }
  appendResults(parts);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
