// What the connector asks pg_catalog: column types (with array elements and domain bases resolved),
// primary keys, and replica identities. Results feed the pure schema builder (connector/src/table-schema.ts).
import type pg from 'pg';
import type { PgTypeInfo } from '../../schemas/src/pg-types.ts';

interface TypeRow { oid: string; schema: string; name: string; kind: PgTypeInfo['kind']; elem: string; base: string }

/** Resolves type oids to PgTypeInfo, following array elements and domain base types. */
export class TypeCatalog {
  private readonly cache = new Map<number, PgTypeInfo>();
  private readonly db: () => pg.ClientBase;
  /** `db` returns the current connection (it is replaced after a reconnect) */
  constructor(db: () => pg.ClientBase) {
    this.db = db;
  }

  async resolve(oids: number[]): Promise<Map<number, PgTypeInfo>> {
    let missing = [...new Set(oids)].filter((o) => !this.cache.has(o));
    const rows = new Map<number, TypeRow>();
    while (missing.length > 0) {
      const { rows: found } = await this.db().query<TypeRow>(
        `SELECT t.oid::text AS oid, n.nspname AS schema, t.typname AS name, t.typtype AS kind,
                t.typelem::text AS elem, t.typbasetype::text AS base
           FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
          WHERE t.oid = ANY($1::oid[])`, [missing]);
      for (const r of found) rows.set(Number(r.oid), r);
      // arrays (typelem ≠ 0 with a name starting '_') and domains need their element / base type too
      missing = found.flatMap((r) => [Number(r.elem), Number(r.base)])
        .filter((o) => o !== 0 && !rows.has(o) && !this.cache.has(o));
    }
    const build = (oid: number): PgTypeInfo => {
      const hit = this.cache.get(oid);
      if (hit) return hit;
      const r = rows.get(oid);
      if (!r) throw new Error(`type oid ${oid} not found in pg_type`);
      const info: PgTypeInfo = { oid, schema: r.schema, name: r.name, kind: r.kind };
      if (Number(r.elem) !== 0 && r.name.startsWith('_')) info.element = build(Number(r.elem));
      if (r.kind === 'd' && Number(r.base) !== 0) info.base = build(Number(r.base));
      this.cache.set(oid, info);
      return info;
    };
    return new Map(oids.map((o) => [o, build(o)]));
  }
}

export interface TableInfo {
  schema: string;
  table: string;
  /** primary key columns in key order; empty when the table has none */
  primaryKey: string[];
  replicaIdentity: 'default' | 'nothing' | 'full' | 'index';
  columns: Array<{ name: string; typeOid: number; typeMod: number }>;
}

const IDENTITY = { d: 'default', n: 'nothing', f: 'full', i: 'index' } as const;

export async function tableInfo(db: pg.ClientBase, schema: string, table: string): Promise<TableInfo | undefined> {
  const { rows: [rel] } = await db.query<{ oid: string; ident: keyof typeof IDENTITY }>(
    `SELECT c.oid::text AS oid, c.relreplident AS ident FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`, [schema, table]);
  if (!rel) return undefined;
  const { rows: cols } = await db.query<{ name: string; type: string; mod: number }>(
    `SELECT attname AS name, atttypid::text AS type, atttypmod AS mod FROM pg_attribute
      WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped AND attgenerated = '' ORDER BY attnum`, [rel.oid]);
  const { rows: pk } = await db.query<{ name: string }>(
    `SELECT a.attname AS name FROM pg_index i
       JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) ON true
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      WHERE i.indrelid = $1 AND i.indisprimary ORDER BY k.ord`, [rel.oid]);
  return {
    schema, table,
    primaryKey: pk.map((r) => r.name),
    replicaIdentity: IDENTITY[rel.ident],
    columns: cols.map((c) => ({ name: c.name, typeOid: Number(c.type), typeMod: Number(c.mod) })),
  };
}
