// The Avro value schemas of a platform's preset tables, checked in under schemas/avro/<platform>/, and the
// start-up comparison of the live tables with them: a column added upstream is reported as an evolution
// (it gets a new schema version, as any new column), a removed or retyped column as a warning.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import type { TableSchema } from '../../schemas/src/envelope.ts';
import type { MappingOptions } from '../../schemas/src/pg-types.ts';
import { TypeCatalog, type TableInfo } from './catalog.ts';
import { buildTableSchema } from './table-schema.ts';

export interface PresetField {
  name: string;
  pgType: string;
}

export interface SchemaDrift {
  table: string;
  added: string[];
  removed: string[];
  retyped: Array<{ column: string; was: string; now: string }>;
}

export function presetSchemaPath(platform: string, table: string): string {
  return fileURLToPath(new URL(`../../schemas/avro/${platform}/${table}.avsc`, import.meta.url));
}

/** The checked-in fields of a preset table (Postgres column and type), or undefined when none is checked in. */
export function checkedInFields(platform: string, table: string): PresetField[] | undefined {
  const path = presetSchemaPath(platform, table);
  if (!existsSync(path)) return undefined;
  const schema = JSON.parse(readFileSync(path, 'utf8')) as { fields: Array<{ name: string; type: unknown }> };
  const before = schema.fields.find((f) => f.name === 'before')?.type as unknown[];
  const value = before.find((t) => typeof t === 'object' && t !== null) as { fields: Array<Record<string, string>> };
  return value.fields.map((f) => ({ name: f['tracelake.column'] ?? f.name!, pgType: f['tracelake.pgType']! }));
}

/** Pure: what changed between the checked-in fields and the live table. */
export function schemaDrift(table: string, checkedIn: PresetField[], live: TableSchema): SchemaDrift {
  const liveFields = new Map(live.columns.map((c) => [c.name, c.mapping.pgType]));
  const known = new Map(checkedIn.map((f) => [f.name, f.pgType]));
  return {
    table,
    added: [...liveFields.keys()].filter((c) => !known.has(c)),
    removed: [...known.keys()].filter((c) => !liveFields.has(c)),
    retyped: [...liveFields].filter(([c, t]) => known.has(c) && known.get(c) !== t).map(([c, t]) => ({ column: c, was: known.get(c)!, now: t })),
  };
}

/** Drift of every live preset table that has a checked-in schema. */
export async function presetDrift(
  db: pg.ClientBase, platform: string, tables: TableInfo[], mapping: MappingOptions, keyColumns: Record<string, string[]>,
): Promise<SchemaDrift[]> {
  const catalog = new TypeCatalog(() => db);
  const out: SchemaDrift[] = [];
  for (const t of tables) {
    const fields = checkedInFields(platform, t.table);
    if (!fields) continue;
    const types = await catalog.resolve(t.columns.map((c) => c.typeOid));
    const live = buildTableSchema(t.schema, t.table, t.columns, keyColumns[`${t.schema}.${t.table}`] ?? t.primaryKey, types, mapping);
    out.push(schemaDrift(t.table, fields, live));
  }
  return out;
}
