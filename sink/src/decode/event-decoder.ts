// Kafka message (Confluent wire format, connector envelope) → TableEvent. Tombstones (null values) carry
// nothing the MERGE needs (the delete event before them does) and decode to null.
import type { ConsumedRecord } from '../consume/change-consumer.ts';
import { decodeWire, type SchemaRegistry } from '../../../schemas/src/registry.ts';
import type { RowScope } from '../../../schemas/src/row-scope.ts';
import { TracelakeError } from '../../../schemas/src/errors.ts';
import { columnsOf, keyFieldsOf, type ColumnDef, type TableEvent } from './table-event.ts';
import type { AvroSchema } from '../../../schemas/src/avro/types.ts';

export class EventDecoder {
  private readonly registry: SchemaRegistry;
  private readonly columns = new Map<AvroSchema, ColumnDef[]>();
  private readonly keys = new Map<AvroSchema, string[]>();

  constructor(registry: SchemaRegistry) {
    this.registry = registry;
  }

  async decode(topic: string, partition: number, m: ConsumedRecord): Promise<TableEvent | null> {
    if (!m.value) return null;
    const value = await decodeWire(this.registry, m.value);
    const key = m.key ? await decodeWire(this.registry, m.key) : null;
    const env = value.value as {
      before: Record<string, unknown> | null; after: Record<string, unknown> | null; op: string;
      unchanged_toast: string[] | null;
      scope?: string | null;
      source: { commit_lsn?: bigint; tx_seq?: bigint; ts_ms: bigint; schema: string; table: string; lsn?: bigint | null };
    };
    if (!env || typeof env.op !== 'string' || !env.source) {
      throw new TracelakeError('message value is not a change-event envelope (before/after/source/op)', {
        code: 'NOT_AN_ENVELOPE', remedy: 'only the tracelake connector (or Debezium) should write to these topics',
      });
    }
    if (!['c', 'u', 'd', 'r', 't'].includes(env.op)) {
      throw new TracelakeError(`unknown op '${env.op}'`, { code: 'NOT_AN_ENVELOPE', remedy: 'expected one of c, u, d, r, t' });
    }
    let columns = this.columns.get(value.writer.schema);
    if (!columns) this.columns.set(value.writer.schema, (columns = columnsOf(value.writer.schema)));
    let keyFields: string[] = [];
    if (key) {
      keyFields = this.keys.get(key.writer.schema) ?? keyFieldsOf(key.writer.schema);
      this.keys.set(key.writer.schema, keyFields);
    }
    // Debezium envelopes have no commit_lsn/tx_seq: fall back to the change LSN
    const commitLsn = env.source.commit_lsn ?? env.source.lsn ?? 0n;
    return {
      topic, partition, offset: m.offset, raw: { key: m.key, value: m.value },
      key: (key?.value as Record<string, unknown>) ?? null,
      op: env.op as TableEvent['op'],
      row: env.op === 'd' ? env.before : env.after,
      unchanged: env.unchanged_toast ?? [],
      commitLsn, seq: env.source.tx_seq ?? 0n, sourceTsMs: env.source.ts_ms,
      schema: env.source.schema, table: env.source.table,
      columns, keyFields,
      ...(env.op === 't' && env.scope ? { scope: JSON.parse(env.scope) as RowScope } : {}),
    };
  }
}
