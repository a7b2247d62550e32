// Builds a table's change-event schema from what the replication stream (or the snapshot) reports about
// its columns plus the catalog's primary key. Pure.
import { mapColumn, type MappingOptions, type PgTypeInfo } from '../../schemas/src/pg-types.ts';
import { TracelakeError } from '../../schemas/src/errors.ts';
import { avroName, type ColumnSchema, type TableSchema } from '../../schemas/src/envelope.ts';

export class MissingPrimaryKeyError extends TracelakeError {
  constructor(table: string) {
    super(`table ${table} has no primary key, so its rows have no identity to upsert by`, {
      code: 'MISSING_PRIMARY_KEY',
      remedy: `add a primary key to ${table}, set key columns for it in the connector's table settings, or exclude it`,
    });
  }
}

export function buildTableSchema(
  schema: string, table: string,
  columns: Array<{ name: string; typeOid: number; typeMod: number }>,
  keyColumns: string[], types: Map<number, PgTypeInfo>, opts: MappingOptions,
): TableSchema {
  const qualified = `${schema}.${table}`;
  if (keyColumns.length === 0) throw new MissingPrimaryKeyError(qualified);
  const seen = new Map<string, string>();
  const cols: ColumnSchema[] = columns.map((c) => {
    const type = types.get(c.typeOid);
    if (!type) throw new Error(`type oid ${c.typeOid} of ${qualified}.${c.name} was not resolved`);
    const field = avroName(c.name);
    const clash = seen.get(field);
    if (clash) throw new Error(`columns "${clash}" and "${c.name}" of ${qualified} both become Avro field ${field}`);
    seen.set(field, c.name);
    return { name: c.name, field, mapping: mapColumn(type, c.typeMod, opts, qualified, c.name), isKey: keyColumns.includes(c.name) };
  });
  const missing = keyColumns.filter((k) => !columns.some((c) => c.name === k));
  if (missing.length > 0) throw new Error(`key column(s) ${missing.join(', ')} are not columns of ${qualified}`);
  return { schema, table, columns: cols };
}
