// The change-event contract between connector and sink: topic names, the Avro key and value schemas of a
// table, and the Debezium-shaped envelope (before / after / source / op / ts_ms), plus `unchanged_toast`:
// the columns whose new value Postgres did not send (unchanged TOASTed values) and that a consumer must keep.
import type { AvroSchema } from './avro/types.ts';
import type { FieldMapping } from './pg-types.ts';

export const CONNECTOR_NAME = 'tracelake-postgresql';
export const CONNECTOR_VERSION = '0.1.0';

export type Op = 'c' | 'u' | 'd' | 'r' | 't';

export interface ColumnSchema {
  /** the Postgres column name */
  name: string;
  /** the Avro field name (the column name made Avro-safe) */
  field: string;
  mapping: FieldMapping;
  isKey: boolean;
}

export interface TableSchema {
  schema: string;
  table: string;
  columns: ColumnSchema[];
}

export interface SourceInfo {
  version: string;
  connector: string;
  name: string;
  ts_ms: bigint;
  ts_us: bigint;
  snapshot: 'true' | 'last' | 'false';
  db: string;
  sequence: string | null;
  schema: string;
  table: string;
  txId: bigint | null;
  lsn: bigint | null;
  xmin: bigint | null;
  commit_lsn: bigint;
  tx_seq: bigint;
}

export interface Envelope {
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  source: SourceInfo;
  op: Op;
  ts_ms: bigint | null;
  unchanged_toast: string[] | null;
  /** for op `t`: the rows it removes, as JSON (schemas/src/row-scope.ts); null: every row older than it */
  scope: string | null;
}

/** `<prefix>.<schema>.<table>`, with characters Kafka does not allow replaced by '_' (as Debezium does). */
export function topicName(prefix: string, schema: string, table: string): string {
  return [prefix, schema, table].map((p) => p.replace(/[^A-Za-z0-9._-]/g, '_')).join('.');
}

/** Whether a topic is a change topic under `prefix` (`<prefix>.<schema>.<table>`; the prefix may hold dots). */
export function changeTopicMatcher(prefix: string): (topic: string) => boolean {
  const re = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.[^.]+\\.[^.]+$`);
  return (topic) => re.test(topic);
}

/** An Avro name: letters, digits and '_', not starting with a digit. */
export function avroName(name: string): string {
  const s = name.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[0-9]/.test(s) ? `_${s}` : s;
}

function namespaceOf(prefix: string, t: TableSchema): string {
  return [prefix, t.schema, t.table].map(avroName).join('.');
}

function field(c: ColumnSchema, nullable: boolean): Record<string, unknown> {
  const f: Record<string, unknown> = {
    name: c.field,
    type: nullable ? ['null', c.mapping.avro] : c.mapping.avro,
    'tracelake.pgType': c.mapping.pgType,
  };
  if (nullable) f.default = null;
  if (c.field !== c.name) f['tracelake.column'] = c.name;
  return f;
}

export function keySchema(prefix: string, t: TableSchema): AvroSchema {
  return {
    type: 'record', name: 'Key', namespace: namespaceOf(prefix, t),
    fields: t.columns.filter((c) => c.isKey).map((c) => field(c, false)),
  } as AvroSchema;
}

const SOURCE_SCHEMA = {
  type: 'record', name: 'Source', namespace: 'tracelake.postgresql',
  fields: [
    { name: 'version', type: 'string' },
    { name: 'connector', type: 'string' },
    { name: 'name', type: 'string' },
    { name: 'ts_ms', type: 'long' },
    { name: 'ts_us', type: ['null', 'long'], default: null },
    { name: 'snapshot', type: ['string', 'null'], default: 'false' },
    { name: 'db', type: 'string' },
    { name: 'sequence', type: ['null', 'string'], default: null },
    { name: 'schema', type: 'string' },
    { name: 'table', type: 'string' },
    { name: 'txId', type: ['null', 'long'], default: null },
    { name: 'lsn', type: ['null', 'long'], default: null },
    { name: 'xmin', type: ['null', 'long'], default: null },
    { name: 'commit_lsn', type: 'long', doc: 'LSN of the commit (or snapshot point) of this event; with tx_seq, its position' },
    { name: 'tx_seq', type: 'long', doc: 'order of this event within its transaction (or snapshot), from 0' },
  ],
};

/**
 * Every column is nullable with default null, so adding or dropping a column stays BACKWARD compatible. The
 * record names its source table exactly (`tracelake.schema`, `tracelake.table`: the topic name and the Avro
 * namespace replace characters Kafka and Avro do not allow), so a sink can prepare the target table from the
 * registered schema before the first event arrives.
 */
export function valueSchema(prefix: string, t: TableSchema): AvroSchema {
  const ns = namespaceOf(prefix, t);
  return {
    type: 'record', name: 'Envelope', namespace: ns, 'tracelake.schema': t.schema, 'tracelake.table': t.table,
    fields: [
      { name: 'before', type: ['null', { type: 'record', name: 'Value', fields: t.columns.map((c) => field(c, true)) }], default: null },
      { name: 'after', type: ['null', 'Value'], default: null },
      { name: 'source', type: SOURCE_SCHEMA },
      { name: 'op', type: 'string' },
      { name: 'ts_ms', type: ['null', 'long'], default: null },
      {
        name: 'unchanged_toast', type: ['null', { type: 'array', items: 'string' }], default: null,
        doc: 'fields of `after` whose value Postgres did not send because it did not change (TOAST); keep the stored value',
      },
      {
        name: 'scope', type: ['null', 'string'], default: null,
        doc: 'op t only: the rows it removes (a JSON row scope, e.g. a ClickHouse DELETE predicate); null: every row older than it',
      },
    ],
  } as AvroSchema;
}
