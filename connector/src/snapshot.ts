// Snapshot reads: every row of a table at the slot's exported snapshot, in primary-key order, in chunks
// (keyset pagination: memory stays bounded by the chunk size). Values are read as text, exactly as the
// replication stream renders them, so both paths share one type conversion.
import type pg from 'pg';
import type { Tuple } from './decode/pgoutput.ts';
import { qualifiedIdent } from './postgres/slot.ts';

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

export async function* readChunks(db: pg.ClientBase, src: SnapshotSource, chunkSize: number): AsyncGenerator<Tuple[]> {
  // the server renders each value with its type's output function (text result format) — exactly what
  // pgoutput sends; a ::text cast would not do (boolean::text is 'true', its output is 't')
  const cols = src.columns.map((c, i) => `t.${ident(c)} AS c${i}`).join(', ');
  const keyPos = src.keyColumns.map((k) => src.columns.indexOf(k));
  const order = src.keyColumns.map((k) => `t.${ident(k)}`).join(', ');
  const from = `${qualifiedIdent(src.schema, src.table)} t`;
  let last: string[] | null = null;
  for (;;) {
    const where: string = last ? `WHERE (${order}) > (${last.map((_, i) => `$${i + 1}`).join(', ')})` : '';
    const res: pg.QueryResult<string[]> = await db.query<string[]>({
      text: `SELECT ${cols} FROM ${from} ${where} ORDER BY ${order} LIMIT ${chunkSize}`, values: last ?? [], rowMode: 'array', types: RAW_TEXT,
    });
    if (res.rows.length === 0) return;
    yield res.rows as Tuple[];
    if (res.rows.length < chunkSize) return;
    const lastRow: string[] = res.rows[res.rows.length - 1]!;
    last = keyPos.map((p) => lastRow[p] as string);
  }
}
