// SQL planning for one table's folded micro-batch: the MERGE statements (split to stay under a size
// limit), the tombstone upkeep of hard deletes, and truncates. Pure: rows in, SQL text out.
//
// Idempotence: every target row carries its source position (_commit_lsn, _tx_seq) and a MERGE changes a
// row only with a newer position, so replaying a batch (a driver retry, a consumer rebalance) is a no-op.
// Deleted keys keep their position too — soft mode in the row itself (_deleted = true), hard mode in a
// companion `<table>__tombstones` table that filters out older source rows — so a replayed older insert
// cannot bring a deleted row back.
import { sqlIdent } from '../sql/literals.ts';
import type { DeltaColumnType } from '../delta/column-types.ts';
import type { FoldedRow } from '../fold/fold-batch.ts';
import { planStagedMerge, stagedRow } from './staged-merge.ts';

export type DeleteMode = 'hard' | 'soft';

export interface PlanColumn {
  /** Avro field */
  field: string;
  /** Delta column name */
  name: string;
  type: DeltaColumnType;
  isKey: boolean;
}

export interface TablePlanInput {
  target: string;
  tombstones: string;
  /** where a row too large for one statement is staged in parts (staged-merge.ts) */
  staged: string;
  columns: PlanColumn[];
  deleteMode: DeleteMode;
  maxStatementBytes: number;
  /** rows per statement: a SQL engine parses every literal into an expression tree (Spark runs out of heap) */
  maxStatementRows: number;
}

export const META_COLUMNS: Array<[string, string]> = [
  ['_commit_lsn', 'BIGINT'], ['_tx_seq', 'BIGINT'], ['_op', 'STRING'], ['_deleted', 'BOOLEAN'],
  ['_source_ts', 'TIMESTAMP'], ['_synced_at', 'TIMESTAMP'],
];

const q = sqlIdent;
const newer = (s: string, t: string) =>
  `(${t}._commit_lsn IS NULL OR ${s}._commit_lsn > ${t}._commit_lsn OR (${s}._commit_lsn = ${t}._commit_lsn AND ${s}._tx_seq > ${t}._tx_seq))`;

/**
 * A statement's source rows: one JSON document in one raw string literal (r'…', no escape processing),
 * read back by from_json against the cell types (FAILFAST: a cell that does not fit its type fails the
 * statement instead of becoming NULL). The engine parses one literal instead of an expression per cell
 * (large VALUES lists were slow to plan and ran Spark out of heap), and a raw literal skips Spark's
 * unescaping, which costs seconds per MB once the text holds backslashes. The document is a column of a
 * one-row VALUES, not a constant, so the optimizer does not fold it into a giant literal array.
 * `bodies` come from rawSafe.
 */
function jsonRows(fields: Array<[string, string]>, bodies: string[]): string {
  return jsonDocRows(fields, `VALUES (r'[${bodies.join(',')}]') AS j(doc)`);
}

/** jsonRows over a document that comes from `docFrom`: a relation with one row and a column doc. */
function jsonDocRows(fields: Array<[string, string]>, docFrom: string): string {
  const schema = `ARRAY<STRUCT<${fields.map(([n, t]) => `${n}: ${t}`).join(', ')}>>`;
  return `SELECT inline(from_json(doc, '${schema}', map('mode', 'FAILFAST'))) FROM ${docFrom}`;
}

const META_CELLS: Array<[string, string]> = [
  ['_op', 'STRING'], ['_commit_lsn', 'BIGINT'], ['_tx_seq', 'BIGINT'], ['_source_ts_ms', 'BIGINT'], ['_unchanged', 'ARRAY<STRING>'],
];

/**
 * JSON text made safe inside r'…' and from the engine's rewriting of statement text: a quote (which could end
 * the literal) and a dollar sign (Spark and Databricks replace `${…}` — variable substitution — in the whole
 * statement text, raw literals included, before parsing) can only stand in a JSON string, where \u0027 and
 * \u0024 mean the same. No row value reaches the statement text with either.
 */
export const rawSafe = (json: string): string => json.replace(/['$]/g, (c) => (c === "'" ? '\\u0027' : '\\u0024'));

const cell = (c: PlanColumn, v: unknown): string => (v === null || v === undefined ? 'null' : c.type.json(v));

/** Data cell i of a folded row as JSON (not yet rawSafe): "ci":value; a delete carries its key only. */
export function dataCell(p: TablePlanInput, r: FoldedRow, i: number): string {
  const c = p.columns[i]!;
  return `"c${i}":${r.op === 'delete' && !c.isKey ? 'null' : cell(c, r.values[c.field])}`;
}

/** One folded row as a JSON object (rawSafe): data cells c0…, then _op, _commit_lsn, _tx_seq, _source_ts_ms, _unchanged. */
export function rowCells(p: TablePlanInput, r: FoldedRow): string {
  const cells = p.columns.map((_, i) => dataCell(p, r, i));
  cells.push(metaCells(r));
  return rawSafe(`{${cells.join(',')}}`);
}

/** The cells after the data cells: _op, _commit_lsn, _tx_seq, _source_ts_ms, _unchanged (not yet rawSafe). */
export function metaCells(r: FoldedRow): string {
  const unchanged = [...r.unchanged].map((f) => JSON.stringify(f));
  return `"_op":"${r.op}","_commit_lsn":${r.commitLsn},"_tx_seq":${r.seq},"_source_ts_ms":${r.sourceTsMs},"_unchanged":[${unchanged.join(',')}]`;
}

/** The rows of a statement: row texts (rowCells) inline, or a staged document (staged-merge.ts). */
export type RowSource = { rows: string[] } | { docFrom: string };

/** Columns whose cells travel as arrays of parts (staged-merge.ts: strings past what the engine's JSON reader takes). */
export type PartedColumns = ReadonlySet<number>;
const NONE: PartedColumns = new Set();

function sourceQuery(p: TablePlanInput, source: RowSource, parted: PartedColumns): string {
  const fields = p.columns.map((c, i): [string, string] => [`c${i}`, parted.has(i) ? 'ARRAY<STRING>' : c.type.cellType]).concat(META_CELLS);
  const projected = p.columns.map((c, i) => `${c.type.project(parted.has(i) ? `array_join(v.c${i}, '')` : `v.c${i}`)} AS ${q(c.name)}`)
    .concat(['v._op', 'v._commit_lsn', 'v._tx_seq', 'timestamp_millis(v._source_ts_ms) AS _source_ts', 'v._unchanged']);
  const rows = 'rows' in source ? jsonRows(fields, source.rows) : jsonDocRows(fields, source.docFrom);
  const values = `SELECT ${projected.join(', ')} FROM (${rows}) v`;
  if (p.deleteMode === 'soft') return values;
  // hard deletes: drop upserts that are not newer than the key's tombstone (a replayed older insert)
  const keys = p.columns.filter((c) => c.isKey);
  const on = keys.map((k) => `d.${q(k.name)} <=> s0.${q(k.name)}`).join(' AND ');
  return `SELECT s0.* FROM (${values}) s0 LEFT ANTI JOIN ${p.tombstones} d ON ${on} AND s0._op = 'upsert' AND NOT ${newer('s0', 'd')}`;
}

/** Room kept in a statement for a key-range predicate (keyRanges) besides its column's name: two literals and the words. */
const RANGE_BYTES = 110;

/**
 * Range predicates on the target's orderable key columns (integers, dates, timestamps) spanning `rows`' keys:
 * every target row a source row can match lies within them, so the MERGE is unchanged, and Delta skips the
 * files whose statistics lie outside — a MERGE of new spans (ids or times past everything stored) can skip all of
 * the old files. Literals only (Delta skips by literal bounds); a column where a row's key is null gets no range
 * (`<=>` matches a null key, a range does not).
 */
export function keyRanges(p: Pick<TablePlanInput, 'columns'>, rows: FoldedRow[]): string[] {
  if (rows.length === 0) return [];
  const out: string[] = [];
  for (const c of p.columns) {
    const bound = c.isKey ? c.type.bound : undefined;
    if (!bound) continue;
    let lo: bigint | undefined;
    let hi: bigint | undefined;
    for (const r of rows) {
      const v = r.values[c.field];
      if (v === null || v === undefined) {
        lo = undefined;
        break;
      }
      const o = bound.order(v);
      if (lo === undefined || o < lo) lo = o;
      if (hi === undefined || o > hi) hi = o;
    }
    if (lo === undefined || hi === undefined) continue;
    const [from, to] = [bound.literal(lo), bound.literal(hi)];
    if (from && to) out.push(`t.${q(c.name)} BETWEEN ${from} AND ${to}`);
  }
  return out;
}

export function mergeStatement(p: TablePlanInput, rows: FoldedRow[], source: RowSource, parted: PartedColumns = NONE): string {
  const keys = p.columns.filter((c) => c.isKey);
  const on = keys.map((k) => `t.${q(k.name)} <=> s.${q(k.name)}`).concat(keyRanges(p, rows)).join(' AND ');
  const mayBeUnchanged = new Set(rows.flatMap((r) => [...r.unchanged]));
  const set = p.columns.filter((c) => !c.isKey).map((c) =>
    mayBeUnchanged.has(c.field)
      ? `t.${q(c.name)} = CASE WHEN array_contains(s._unchanged, '${c.field}') THEN t.${q(c.name)} ELSE s.${q(c.name)} END`
      : `t.${q(c.name)} = s.${q(c.name)}`);
  const meta = (deleted: boolean) => [
    `t._commit_lsn = s._commit_lsn`, `t._tx_seq = s._tx_seq`, `t._op = s._op`, `t._deleted = ${deleted ? 'TRUE' : 'FALSE'}`,
    `t._source_ts = s._source_ts`, `t._synced_at = current_timestamp()`,
  ];
  const cols = p.columns.map((c) => q(c.name)).concat(META_COLUMNS.map(([n]) => n));
  const insertValues = (deleted: boolean) => p.columns.map((c) => `s.${q(c.name)}`)
    .concat(['s._commit_lsn', 's._tx_seq', 's._op', deleted ? 'TRUE' : 'FALSE', 's._source_ts', 'current_timestamp()']);
  const whenDelete = p.deleteMode === 'hard'
    ? `WHEN MATCHED AND s._op = 'delete' AND ${newer('s', 't')} THEN DELETE`
    : `WHEN MATCHED AND s._op = 'delete' AND ${newer('s', 't')} THEN UPDATE SET ${meta(true).join(', ')}`;
  const insertDeleted = p.deleteMode === 'soft'
    ? `\nWHEN NOT MATCHED AND s._op = 'delete' THEN INSERT (${cols.join(', ')}) VALUES (${insertValues(true).join(', ')})`
    : '';
  if (insertOnly(p, rows)) {
    // only new keys: Delta runs an insert-only MERGE as one anti-join pass that rewrites no file; a replay
    // finds its rows already there (a key present can only hold this insert or something newer)
    return `MERGE INTO ${p.target} t
USING (${sourceQuery(p, source, parted)}) s
ON ${on}
WHEN NOT MATCHED AND s._op = 'upsert' THEN INSERT (${cols.join(', ')}) VALUES (${insertValues(false).join(', ')})`;
  }
  return `MERGE INTO ${p.target} t
USING (${sourceQuery(p, source, parted)}) s
ON ${on}
${whenDelete}
WHEN MATCHED AND s._op = 'upsert' AND ${newer('s', 't')} THEN UPDATE SET ${set.concat(meta(false)).join(', ')}
WHEN NOT MATCHED AND s._op = 'upsert' THEN INSERT (${cols.join(', ')}) VALUES (${insertValues(false).join(', ')})${insertDeleted}`;
}

/**
 * True when every row comes from inserts alone (op 'c', nothing else of its key in the batch) and deletes are
 * hard. Then a key already in the target holds this very insert (a replay) or a later change of it: the
 * key's earlier life ended with a delete that was merged before (same partition, merged in order) and
 * removed its row. Soft deletes keep that row (_deleted = true), snapshot reads ('r') may meet older rows, so
 * those take the full MERGE.
 */
export function insertOnly(p: Pick<TablePlanInput, 'deleteMode'>, rows: FoldedRow[]): boolean {
  return p.deleteMode === 'hard' && rows.length > 0 && rows.every((r) => r.op === 'upsert' && r.events.length > 0 && r.events.every((e) => e.op === 'c'));
}

/**
 * MERGE statements for the rows, each under maxStatementBytes and maxStatementRows, written one at a time as
 * they are taken: only the statement being run is in memory. A row too large for a statement of its own is
 * staged in parts and merged from there (staged-merge.ts).
 */
export function* planMerges(p: TablePlanInput, rows: FoldedRow[]): Generator<string, void, undefined> {
  if (rows.length === 0) return;
  const overhead = Buffer.byteLength(mergeStatement(p, [], { rows: ['{}'] }))
    + p.columns.filter((c) => c.isKey && c.type.bound).reduce((n, c) => n + RANGE_BYTES + Buffer.byteLength(q(c.name)), 0);
  let chunk: FoldedRow[] = [];
  let chunkValues: string[] = [];
  let size = overhead;
  for (const r of rows) {
    // a row that is surely too large is staged without first writing it out whole (its text would be a copy
    // of every value in the heap, twice over with the escaping)
    const large = stagedRow(p, r);
    const v = large ? '' : rowCells(p, r);
    const bytes = large ? Infinity : Buffer.byteLength(v) + 1;
    if (chunk.length > 0 && (size + bytes > p.maxStatementBytes || chunk.length >= p.maxStatementRows || overhead + bytes > p.maxStatementBytes)) {
      const sql = mergeStatement(p, chunk, { rows: chunkValues });
      chunk = [];
      chunkValues = []; // let the rows' text go while the statement runs
      size = overhead;
      yield sql;
    }
    if (overhead + bytes > p.maxStatementBytes) {
      yield* planStagedMerge(p, r);
      continue;
    }
    chunk.push(r);
    chunkValues.push(v);
    size += bytes;
  }
  if (chunk.length > 0) yield mergeStatement(p, chunk, { rows: chunkValues });
}

/** Hard mode: record the position of deleted keys first, so no later replay can resurrect them. */
export function planTombstones(p: TablePlanInput, rows: FoldedRow[]): string[] {
  const deletes = rows.filter((r) => r.op === 'delete');
  if (p.deleteMode !== 'hard' || deletes.length === 0) return [];
  const keys = p.columns.filter((c) => c.isKey);
  const fields = keys.map((k, j): [string, string] => [`k${j}`, k.type.cellType]).concat([['_commit_lsn', 'BIGINT'], ['_tx_seq', 'BIGINT']]);
  const proj = keys.map((k, j) => `${k.type.project(`v.k${j}`)} AS ${q(k.name)}`).concat(['v._commit_lsn', 'v._tx_seq']);
  const on = keys.map((k) => `t.${q(k.name)} <=> s.${q(k.name)}`).join(' AND ');
  const out: string[] = [];
  for (let i = 0; i < deletes.length; i += 1000) {
    const bodies = deletes.slice(i, i + 1000).map((r) =>
      rawSafe(`{${keys.map((k, j) => `"k${j}":${cell(k, r.values[k.field])}`).concat([`"_commit_lsn":${r.commitLsn}`, `"_tx_seq":${r.seq}`]).join(',')}}`));
    out.push(`MERGE INTO ${p.tombstones} t USING (SELECT ${proj.join(', ')} FROM (${jsonRows(fields, bodies)}) v) s ON ${on}
WHEN MATCHED AND ${newer('s', 't')} THEN UPDATE SET t._commit_lsn = s._commit_lsn, t._tx_seq = s._tx_seq
WHEN NOT MATCHED THEN INSERT (${keys.map((k) => q(k.name)).concat(['_commit_lsn', '_tx_seq']).join(', ')}) VALUES (${keys.map((k) => `s.${q(k.name)}`).concat(['s._commit_lsn', 's._tx_seq']).join(', ')})`);
  }
  return out;
}

/** A TRUNCATE in the source: rows older than it go (hard) or are marked deleted (soft). */
export function planTruncate(p: TablePlanInput, at: { commitLsn: bigint; seq: bigint }): string {
  const older = `(_commit_lsn < ${at.commitLsn} OR (_commit_lsn = ${at.commitLsn} AND _tx_seq < ${at.seq}))`;
  return p.deleteMode === 'hard'
    ? `DELETE FROM ${p.target} WHERE ${older}`
    : `UPDATE ${p.target} SET _deleted = TRUE, _op = 't', _synced_at = current_timestamp() WHERE ${older} AND NOT _deleted`;
}
