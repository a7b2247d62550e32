// Warms a freshly started local engine through the warehouse endpoint, the way the sink will use it: a Delta
// table and its tombstones, MERGEs planned by the sink's own planner (JSON document, from_json, tombstone
// anti-join), a view over a join, and a count through it; then the scratch schema goes. Spark compiles its
// code paths on first use: on a new JVM the first MERGEs took ~10 s each and a first `make demo` saw its spans
// ~47 s late, the third run ~10 s. A Databricks SQL warehouse that is running is warm. Run by warehouse.sh
// once per Spark process; usage: node warehouse-warmup.ts <port> <path> <token> <ca-file>
import { readFileSync } from 'node:fs';
import { connectWarehouse } from '../../sink/src/warehouse/databricks-client.ts';
import { planMerges, planTombstones, type TablePlanInput } from '../../sink/src/plan/merge-plan.ts';
import { createTable, createTombstones } from '../../sink/src/plan/ddl.ts';
import { deltaType } from '../../sink/src/delta/column-types.ts';
import { DEFAULT_TABLE_PROPERTIES } from '../../sink/src/config.ts';
import type { FoldedRow } from '../../sink/src/fold/fold-batch.ts';

const [port, path, token, caFile] = process.argv.slice(2);
const wh = await connectWarehouse({ host: '127.0.0.1', port: Number(port), path: path!, auth: { token: token! }, caCert: readFileSync(caFile!) });
const schema = `tracelake_warmup_${process.pid}`;
const layout = { target: `${schema}.spans`, tombstones: `${schema}.spans__tombstones`, staged: `${schema}.spans__staged`, clusterBy: [], properties: DEFAULT_TABLE_PROPERTIES };
const plan: TablePlanInput = {
  target: layout.target, tombstones: layout.tombstones, staged: layout.staged, deleteMode: 'hard', maxStatementBytes: 4 << 20, maxStatementRows: 20_000,
  columns: [
    { field: 'id', name: 'id', isKey: true, type: deltaType('long', 'id') },
    { field: 'name', name: 'name', isKey: false, type: deltaType('string', 'name') },
    { field: 'start', name: 'start', isKey: false, type: deltaType({ type: 'long', logicalType: 'timestamp-micros' } as never, 'start') },
  ],
};
const row = (id: number, round: number, op: FoldedRow['op'] = 'upsert'): FoldedRow => ({
  keyJson: String(id), op, values: { id: BigInt(id), name: `span ${id}`, start: 1_700_000_000_000_000n + BigInt(id) },
  unchanged: new Set(), commitLsn: BigInt(round), seq: BigInt(id), sourceTsMs: 0n, events: [],
});
try {
  await wh.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  await wh.query(createTable(layout, plan.columns));
  await wh.query(createTombstones(layout, plan.columns));
  for (let round = 1; round <= 4; round++) {
    const rows = Array.from({ length: 50 }, (_, i) => row(i + round * 10, round, i % 7 === 0 && round > 2 ? 'delete' : 'upsert'));
    for (const sql of [...planTombstones(plan, rows), ...planMerges(plan, rows)]) await wh.query(sql);
  }
  await wh.query(`CREATE OR REPLACE VIEW ${schema}.v AS SELECT s.id, s.name, t.id AS tomb FROM ${layout.target} s LEFT JOIN ${layout.tombstones} t ON s.id = t.id`);
  await wh.query(`SELECT count(*) FROM ${schema}.v WHERE name LIKE 'span%'`);
} finally {
  await wh.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
  await wh.close();
}
