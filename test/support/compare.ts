// Row-for-row comparison of a Postgres table with its Delta mirror: every column rendered to the same text
// on both sides (timestamps as UTC microseconds, json as Postgres renders it, bytes as base64).
import type pg from 'pg';
import type { Warehouse } from '../../sink/src/warehouse/databricks-client.ts';

interface Column { name: string; type: string }

export async function compareTable(db: pg.Client, schema: string, table: string, wh: Warehouse, target: string): Promise<{ rows: number; mismatches: string[] }> {
  const { rows: cols } = await db.query<Column>(
    `SELECT attname AS name, format_type(atttypid, NULL) AS type FROM pg_attribute
      WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`, [`"${schema}"."${table}"`]);
  const pgExpr = (c: Column) => {
    const q = `"${c.name}"`;
    if (c.type.startsWith('timestamp')) return `to_char(${q}${c.type.includes('with time zone') ? " AT TIME ZONE 'UTC'" : ''}, 'YYYY-MM-DD HH24:MI:SS.US')`;
    if (c.type === 'bytea') return `encode(${q}, 'base64')`;
    if (c.type.endsWith('[]')) return `to_json(${q})::text`;
    if (c.type === 'double precision' || c.type === 'real') return `${q}::float8::text`;
    if (c.type === 'boolean') return `CASE WHEN ${q} THEN 'true' WHEN NOT ${q} THEN 'false' END`;
    return `${q}::text`;
  };
  const sparkExpr = (c: Column) => {
    const q = `\`${c.name}\``;
    if (c.type.startsWith('timestamp')) return `date_format(${q}, 'yyyy-MM-dd HH:mm:ss.SSSSSS')`;
    if (c.type === 'bytea') return `base64(${q})`;
    if (c.type.endsWith('[]')) return `to_json(${q})`;
    if (c.type === 'double precision' || c.type === 'real') return `CAST(CAST(${q} AS DOUBLE) AS STRING)`;
    return `CAST(${q} AS STRING)`;
  };
  // both sides sort by the rendered primary-key text: byte order in both (C.UTF-8 collation, Spark strings)
  const { rows: pk } = await db.query<{ name: string }>(
    `SELECT a.attname AS name FROM pg_index i JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(n, o) ON true
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n WHERE i.indrelid = $1::regclass AND i.indisprimary ORDER BY k.o`,
    [`"${schema}"."${table}"`]);
  const order = pk.map((k) => `c${cols.findIndex((c) => c.name === k.name)}`).join(', ') || 'c0';
  const pgRows = (await db.query<Record<string, string | null>>(
    `SELECT ${cols.map((c, i) => `${pgExpr(c)} AS c${i}`).join(', ')} FROM "${schema}"."${table}" ORDER BY ${order}`)).rows;
  const deltaRows = await wh.query<Record<string, string | null>>(
    `SELECT ${cols.map((c, i) => `${sparkExpr(c)} AS c${i}`).join(', ')} FROM ${target} WHERE NOT _deleted ORDER BY ${order}`);
  const mismatches: string[] = [];
  if (pgRows.length !== deltaRows.length) mismatches.push(`${table}: ${pgRows.length} rows in Postgres, ${deltaRows.length} in Delta`);
  const n = Math.min(pgRows.length, deltaRows.length);
  for (let r = 0; r < n && mismatches.length < 5; r++) {
    cols.forEach((c, i) => {
      const a = pgRows[r]![`c${i}`] ?? null;
      const b = deltaRows[r]![`c${i}`] ?? null;
      const same = a === b || (c.type.includes('precision') || c.type === 'real' ? Number(a) === Number(b) : false);
      if (!same) mismatches.push(`${table} row ${r} column ${c.name}: Postgres ${JSON.stringify(a)?.slice(0, 80)} vs Delta ${JSON.stringify(b)?.slice(0, 80)}`);
    });
  }
  return { rows: pgRows.length, mismatches };
}
