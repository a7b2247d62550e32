// What the key-range predicate of a MERGE (plan/merge-plan.ts, keyRanges) saves on a table of many files: a
// Delta table of FILES files is built through the sink's own planner, then small batches — new keys (past
// everything stored) and updates of the newest keys — are merged with the statement as the sink writes it and
// with its range predicate taken out, alternately, REPEATS times each. Reports Delta's own executionTimeMs and
// scanTimeMs of those MERGEs (DESCRIBE HISTORY) and appends them to docs/benchmarks.md.
// Run: node bench/merge-key-range.ts (the stack must be up and idle).
import { stack } from '../scripts/stack/stack-env.ts';
import { connectWarehouse } from '../sink/src/warehouse/databricks-client.ts';
import { deltaType } from '../sink/src/delta/column-types.ts';
import { planMerges, type PlanColumn, type TablePlanInput } from '../sink/src/plan/merge-plan.ts';
import { createTable, createTombstones } from '../sink/src/plan/ddl.ts';
import { DEFAULT_TABLE_PROPERTIES } from '../sink/src/config.ts';
import type { FoldedRow } from '../sink/src/fold/fold-batch.ts';
import type { TableEvent } from '../sink/src/decode/table-event.ts';
import { appendResults, load1, machine, median, today } from './lib/harness.ts';

const FILES = Number(process.env.BENCH_RANGE_FILES ?? 40);
const ROWS_PER_FILE = Number(process.env.BENCH_RANGE_ROWS_PER_FILE ?? 5000);
const BATCH = Number(process.env.BENCH_RANGE_BATCH ?? 100);
const REPEATS = Number(process.env.BENCH_RANGE_REPEATS ?? 5);
const RUN = `bench_range_${Date.now().toString(36)}`;

const columns: PlanColumn[] = ([
  ['id', 'long', true], ['name', 'string', false], ['attributes', 'string', false],
  ['start_time', { type: 'long', logicalType: 'timestamp-micros' }, false],
] as const).map(([name, avro, isKey]) => ({ field: name, name, isKey, type: deltaType(avro as never, name) }));

function rows(first: number, n: number, pass: number, op: TableEvent['op']): FoldedRow[] {
  return Array.from({ length: n }, (_, k) => first + k).map((i) => ({
    keyJson: String(i), op: 'upsert' as const,
    values: { id: BigInt(i), name: `span ${pass}`, attributes: `{"i":${i},"p":"${'x'.repeat(400)}"}`, start_time: 1_700_000_000_000_000n + BigInt(i) },
    unchanged: new Set<string>(), commitLsn: BigInt(pass) * 1_000_000_000n + BigInt(i), seq: 0n, sourceTsMs: 0n, events: [{ op } as TableEvent],
  }));
}

const withoutRange = (sql: string) => sql.replace(/ AND t\.`id` BETWEEN \S+ AND \S+/, '');

async function main(): Promise<void> {
  const env = stack();
  const wh = await connectWarehouse({ ...env.warehouse, auth: { token: env.warehouse.token } });
  const plan: TablePlanInput = {
    target: `${RUN}.t`, tombstones: `${RUN}.t__tombstones`, staged: `${RUN}.t__staged`, columns, deleteMode: 'hard',
    maxStatementBytes: 15 << 20, maxStatementRows: ROWS_PER_FILE,
  };
  try {
    await wh.query(`CREATE SCHEMA IF NOT EXISTS ${RUN}`);
    await wh.query(createTable({ ...plan, clusterBy: [], properties: DEFAULT_TABLE_PROPERTIES }, columns));
    await wh.query(createTombstones({ ...plan, clusterBy: [], properties: DEFAULT_TABLE_PROPERTIES }, columns));
    // one insert-only MERGE per file, keys ascending: each file holds one key range
    for (let f = 0; f < FILES; f++) for (const sql of planMerges(plan, rows(f * ROWS_PER_FILE, ROWS_PER_FILE, 1, 'c'))) await wh.query(sql);
    let next = FILES * ROWS_PER_FILE;
    const versions: Array<{ kind: string; ranged: boolean; version: number }> = [];
    const version = async () => Number((await wh.query<{ version: number }>(`DESCRIBE HISTORY ${plan.target} LIMIT 1`))[0]!.version);
    for (let r = 0; r < REPEATS; r++) {
      for (const ranged of [true, false]) {
        const batches: Array<[string, FoldedRow[]]> = [
          ['new keys', rows(next, BATCH, 2 + r, 'c')],
          ['updates of the newest keys', rows(next - BATCH, BATCH, 100 + r * 2 + (ranged ? 0 : 1), 'u')],
        ];
        next += BATCH;
        for (const [kind, batch] of batches) {
          for (const sql of planMerges(plan, batch)) await wh.query(ranged ? sql : withoutRange(sql));
          versions.push({ kind, ranged, version: await version() });
        }
      }
    }
    const history = await wh.query<{ version: number; operationMetrics: string | Record<string, string> }>(`DESCRIBE HISTORY ${plan.target}`);
    const metrics = new Map(history.map((h) => [Number(h.version), typeof h.operationMetrics === 'string' ? JSON.parse(h.operationMetrics) as Record<string, string> : h.operationMetrics]));
    const lines: string[] = [];
    for (const kind of ['new keys', 'updates of the newest keys']) {
      const cell = (ranged: boolean, key: string) => median(versions.filter((v) => v.kind === kind && v.ranged === ranged).map((v) => Number(metrics.get(v.version)?.[key] ?? NaN)));
      const line = `| ${kind} (${BATCH} rows) | ${cell(true, 'executionTimeMs')} / ${cell(true, 'scanTimeMs')} ms | ${cell(false, 'executionTimeMs')} / ${cell(false, 'scanTimeMs')} ms |`;
      console.log(line);
      lines.push(line);
    }
    appendResults([
      `## MERGE with and without the key-range predicate — ${today()} (bench/merge-key-range.ts)`, '',
      `${machine()}, load ${load1()}; the stack's Delta engine (Spark 4.2 + Delta 4.4, deletion vectors on). A table of ${FILES} files`,
      `× ${ROWS_PER_FILE} rows (~0.5 KB each, one key range per file), then batches of ${BATCH} rows merged as the sink writes them and with`,
      `the range predicate taken out, alternately, ${REPEATS} times each; medians of Delta's own executionTimeMs / scanTimeMs.`, '',
      '| batch | with the key range | without |', '| --- | --- | --- |', ...lines,
    ]);
  } finally {
    await wh.query(`DROP SCHEMA IF EXISTS ${RUN} CASCADE`).catch(() => undefined);
    await wh.close();
  }
}

await main();
