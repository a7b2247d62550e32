// Snapshot reads: every row of a table at the slot's exported snapshot, in chunks, so memory stays bounded
// by the chunk size. Values are read as text, exactly as the replication stream renders them, so both paths
// share one type conversion.
//
// Two ways to cut a table into chunks:
// - block ranges (`ctid >= '(a,0)' AND ctid < '(b,0)'`, a TID range scan on PostgreSQL 14+): the chunks are
//   independent, so several connections — each in a transaction at the same exported snapshot — read them in
//   parallel; the order of rows is physical, which is fine because every row of a consistent snapshot has its
//   own key;
// - keyset pagination in primary-key order (older servers, partitioned tables): each chunk starts after the
//   last key of the one before, so one connection reads them in turn.
// Either way the next chunk is requested before the current one is handed out, so Postgres reads while the
// connector encodes.
import type pg from 'pg';
import type { Tuple } from '../../emitter/encode/change-record.ts';
import { qualifiedIdent } from './slot.ts';

const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;

/** Keep every value as the server's text rendering: no client-side parsing. */
const RAW_TEXT = { getTypeParser: () => (value: string) => value } as unknown as pg.CustomTypesConfig;

export interface SnapshotSource {
  schema: string;
  table: string;
  columns: string[];
  keyColumns: string[];
}

/** Opens a REPEATABLE READ transaction on `db` that sees the exported snapshot `snapshotName`. */
export async function beginSnapshot(db: pg.ClientBase, snapshotName: string): Promise<void> {
  await db.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  await db.query(`SET TRANSACTION SNAPSHOT '${snapshotName.replace(/'/g, "''")}'`);
}

// the server renders each value with its type's output function (text result format) — exactly what
// pgoutput sends; a ::text cast would not do (boolean::text is 'true', its output is 't')
const selectList = (src: SnapshotSource) => src.columns.map((c, i) => `t.${ident(c)} AS c${i}`).join(', ');

async function select(db: pg.ClientBase, text: string, values: string[]): Promise<Tuple[]> {
  const res = await db.query<string[]>({ text, values, rowMode: 'array', types: RAW_TEXT });
  return res.rows as Tuple[];
}

/** A rejected promise nobody awaited yet must not end the process; whoever awaits it still sees the error. */
function prefetched<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

/** Chunks in primary-key order, one connection; the next chunk is requested before this one is yielded. */
export async function* readChunks(db: pg.ClientBase, src: SnapshotSource, chunkSize: number): AsyncGenerator<Tuple[]> {
  const keyPos = src.keyColumns.map((k) => src.columns.indexOf(k));
  const order = src.keyColumns.map((k) => `t.${ident(k)}`).join(', ');
  const query = (after: string[] | null) => select(db,
    `SELECT ${selectList(src)} FROM ${qualifiedIdent(src.schema, src.table)} t `
    + `${after ? `WHERE (${order}) > (${after.map((_, i) => `$${i + 1}`).join(', ')})` : ''} ORDER BY ${order} LIMIT ${chunkSize}`,
    after ?? []);
  let next = prefetched(query(null));
  for (;;) {
    const rows = await next;
    if (rows.length === 0) return;
    const more = rows.length === chunkSize;
    if (more) {
      const last = rows[rows.length - 1]!;
      next = prefetched(query(keyPos.map((p) => last[p] as string)));
    }
    yield rows;
    if (!more) return;
  }
}

export interface BlockRange {
  from: number;
  /** exclusive; null: to the end of the table */
  to: number | null;
}

export interface BlockLayout {
  /** false: the table has no blocks of its own (partitioned) or the server has no TID range scan */
  splittable: boolean;
  blocks: number;
  rowsPerBlock: number;
  /** the planner's row estimate (for progress; 0 when never analyzed) */
  estimatedRows: number;
}

/**
 * The table's size in blocks now — an upper bound for every row the snapshot sees: rows added later are
 * invisible to it, and VACUUM cannot truncate blocks holding rows our snapshot still sees — and its
 * rows (in all, and per block) from the planner statistics.
 */
export async function blockLayout(db: pg.ClientBase, src: SnapshotSource): Promise<BlockLayout> {
  const { rows: [r] } = await db.query<{ kind: string; blocks: string; tuples: number; pages: number; version: number }>(
    `SELECT c.relkind AS kind, (pg_relation_size(c.oid) / current_setting('block_size')::int)::text AS blocks,
            c.reltuples::float8 AS tuples, c.relpages AS pages, current_setting('server_version_num')::int AS version
       FROM pg_class c WHERE c.oid = $1::regclass`, [qualifiedIdent(src.schema, src.table)]);
  if (!r) throw new Error(`table ${src.schema}.${src.table} not found`);
  const rowsPerBlock = r.pages > 0 && r.tuples > 0 ? r.tuples / r.pages : 100;
  return { splittable: r.kind === 'r' && r.version >= 140000, blocks: Number(r.blocks), rowsPerBlock, estimatedRows: Math.max(0, Math.round(r.tuples)) };
}

/** Block ranges of about `chunkRows` rows each; the last one is open-ended. */
export function blockRanges(layout: BlockLayout, chunkRows: number): BlockRange[] {
  const step = Math.max(1, Math.floor(chunkRows / Math.max(1, layout.rowsPerBlock)));
  const out: BlockRange[] = [];
  for (let from = 0; from < layout.blocks; from += step) out.push({ from, to: from + step < layout.blocks ? from + step : null });
  if (out.length === 0) out.push({ from: 0, to: null });
  return out;
}

export function readBlockRange(db: pg.ClientBase, src: SnapshotSource, r: BlockRange): Promise<Tuple[]> {
  const where = `t.ctid >= '(${r.from},0)'::tid${r.to === null ? '' : ` AND t.ctid < '(${r.to},0)'::tid`}`;
  return select(db, `SELECT ${selectList(src)} FROM ${qualifiedIdent(src.schema, src.table)} t WHERE ${where}`, []);
}

/**
 * Reads `ranges` with every connection of `readers` (each already in a transaction at the snapshot), each
 * taking the next range when done with its last, and yields the chunks as they arrive. At most one chunk per
 * reader waits to be taken, so memory stays bounded by readers × chunk size.
 */
export async function* readRangesInParallel(readers: pg.ClientBase[], src: SnapshotSource, ranges: BlockRange[]): AsyncGenerator<Tuple[]> {
  let nextRange = 0;
  const ready: Tuple[][] = [];
  let failure: Error | undefined;
  let active = readers.length;
  let wake: (() => void) | undefined;
  const space = new Set<() => void>();
  const notify = () => { wake?.(); wake = undefined; };
  let closed = false;
  const work = async (db: pg.ClientBase) => {
    try {
      while (!failure && !closed && nextRange < ranges.length) {
        const rows = await readBlockRange(db, src, ranges[nextRange++]!);
        if (rows.length > 0) ready.push(rows);
        notify();
        // one chunk per reader in hand at most: wait until the consumer took some
        while (ready.length >= readers.length && !failure && !closed) await new Promise<void>((r) => space.add(r));
      }
    } catch (err) {
      failure ??= err as Error;
    } finally {
      active--;
      notify();
    }
  };
  const workers = readers.map((db) => work(db));
  try {
    for (;;) {
      if (failure) throw failure;
      const rows = ready.shift();
      if (rows) {
        for (const r of space) r();
        space.clear();
        yield rows;
        continue;
      }
      if (active === 0) break;
      await new Promise<void>((r) => (wake = r));
    }
  } finally {
    closed = true;
    for (const r of space) r();
    await Promise.all(workers);
  }
  if (failure) throw failure;
}
