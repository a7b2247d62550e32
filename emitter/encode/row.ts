// Postgres tuples (text values, in relation column order) → Avro records of a table schema.
import { UNCHANGED, type Tuple } from './change-record.ts';
import { Utf8Text } from '../../schemas/src/utf8-text.ts';
import type { TableSchema } from '../../schemas/src/envelope.ts';
import { ValueConversionError } from '../../schemas/src/pg-types.ts';

export interface Row {
  record: Record<string, unknown>;
  /** Avro field names whose value was an unchanged TOAST datum (absent from the record's meaning) */
  unchanged: string[];
}

export function tupleToRow(t: TableSchema, tuple: Tuple): Row {
  const record: Record<string, unknown> = {};
  const unchanged: string[] = [];
  t.columns.forEach((c, i) => {
    const v = tuple[i];
    if (v === UNCHANGED) {
      record[c.field] = null;
      unchanged.push(c.field);
    } else if (v === null || v === undefined) {
      record[c.field] = null;
    } else {
      try {
        // text kept as bytes goes into the Avro string as it is when the value is the text itself
        if (v instanceof Utf8Text) record[c.field] = c.mapping.asIs && v.wellFormed ? v : c.mapping.convert(v.toString());
        else record[c.field] = c.mapping.convert(v);
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        throw new ValueConversionError(`${t.schema}.${t.table}.${c.name} (${c.mapping.pgType}): ${msg}`);
      }
    }
  });
  return { record, unchanged };
}

/** The key record: the replica-identity columns of a row. */
export function keyOf(t: TableSchema, record: Record<string, unknown>): Record<string, unknown> {
  const key: Record<string, unknown> = {};
  for (const c of t.columns) if (c.isKey) key[c.field] = record[c.field];
  return key;
}
