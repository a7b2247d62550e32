// A decoded change event as the sink sees it: which table, which key, what happened, where in the source
// history it sits, and the writer schema's columns. Built from the connector's envelope (schemas/src/envelope.ts).
import type { AvroSchema } from '../../../schemas/src/avro/types.ts';
import type { RowScope } from '../../../schemas/src/row-scope.ts';

export interface ColumnDef {
  /** Avro field name */
  field: string;
  /** column name in Postgres and Delta */
  name: string;
  /** Avro type of a non-null value */
  avro: AvroSchema;
  pgType: string | undefined;
}

export interface TableEvent {
  topic: string;
  partition: number;
  offset: string;
  /** the record as it came from Kafka, for the dead-letter topic */
  raw: { key: Buffer | null; value: Buffer | null };
  /** Kafka message key, as Avro record (null for truncates) */
  key: Record<string, unknown> | null;
  op: 'c' | 'u' | 'd' | 'r' | 't';
  /** row image: `after`, or `before` for deletes */
  row: Record<string, unknown> | null;
  /** fields whose value was not sent (unchanged TOAST) */
  unchanged: string[];
  commitLsn: bigint;
  seq: bigint;
  sourceTsMs: bigint;
  /** source schema and table */
  schema: string;
  table: string;
  /** columns of the value schema the event was written with */
  columns: ColumnDef[];
  keyFields: string[];
  /** op 't': the rows it removes (null: every row older than it) */
  scope?: RowScope | null;
}

/** Columns of the envelope's `Value` record (from the writer schema JSON). */
export function columnsOf(envelopeSchema: AvroSchema): ColumnDef[] {
  const env = envelopeSchema as { fields: Array<{ name: string; type: unknown }> };
  const before = env.fields.find((f) => f.name === 'before');
  const union = before?.type as unknown[] | undefined;
  const value = union?.find((t) => typeof t === 'object' && t !== null && (t as { type?: string }).type === 'record') as
    | { fields: Array<Record<string, unknown>> } | undefined;
  if (!value) throw new Error('not a tracelake/Debezium envelope: no before/after Value record');
  return value.fields.map((f) => {
    const type = f.type as unknown;
    const nonNull = Array.isArray(type) ? type.find((t) => t !== 'null') : type;
    return {
      field: f.name as string,
      name: (f['tracelake.column'] as string | undefined) ?? (f.name as string),
      avro: nonNull as AvroSchema,
      pgType: f['tracelake.pgType'] as string | undefined,
    };
  });
}

export function keyFieldsOf(keySchema: AvroSchema): string[] {
  return (keySchema as { fields: Array<{ name: string }> }).fields.map((f) => f.name);
}
