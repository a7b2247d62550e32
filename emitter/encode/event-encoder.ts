// The CPU-heavy middle of the pipeline, the same for every source: change records (from the source's
// RecordDecoder, change-record.ts) in, Kafka keys and values in the registry's wire format out — value
// conversion, the Debezium envelope, the size ceiling and Avro encoding. Pure (no I/O), so the same code runs
// on the event loop or in a worker thread (encoder.ts).
import { changeEvent, truncateEvent, type SourceContext } from './change-event.ts';
import type { ChangeRecord, Position, RecordDecoder, Tuple } from './change-record.ts';
import { Output, type EncodedBatch, type OutputTable } from './encoded-output.ts';
import { keyOf, tupleToRow } from './row.ts';
import { deadLetterRecord, findOversize, rowTooLarge, type RowLimits } from './row-limits.ts';
import { avroType, type AvroSchema } from '../../schemas/src/avro/types.ts';
import type { TableSchema } from '../../schemas/src/envelope.ts';

/** A table as the encoder knows it: plain data, so it can be posted to a worker thread. */
export interface TableDefinition {
  ref: number;
  /** what the source's RecordDecoder rebuilds the table schema from */
  description: unknown;
  keyId: number;
  keySchema: AvroSchema;
  valueId: number;
  valueSchema: AvroSchema;
}

export interface EncoderSettings {
  source: SourceContext;
  /** a tombstone (null value) after each delete, for log compaction */
  tombstonesOnDelete: boolean;
  /** the size ceiling of a row image (row-limits.ts) */
  limits: RowLimits;
  /** the module (URL) whose createRecordDecoder() reads the source's jobs */
  decoder: string;
}

interface KnownTable extends OutputTable {
  schema: TableSchema;
}

export class EventEncoder {
  private readonly settings: EncoderSettings;
  private readonly decoder: RecordDecoder;
  private readonly tables = new Map<number, KnownTable>();
  private readonly deadLetter: Set<string>;
  private readonly schemaOf = (ref: number): TableSchema => this.table(ref).schema;

  constructor(settings: EncoderSettings, decoder: RecordDecoder) {
    this.settings = settings;
    this.decoder = decoder;
    this.deadLetter = new Set(settings.limits.deadLetter ?? []);
  }

  define(def: TableDefinition): void {
    this.tables.set(def.ref, {
      ref: def.ref, schema: this.decoder.table(def.description),
      key: { id: def.keyId, type: avroType(def.keySchema) }, value: { id: def.valueId, type: avroType(def.valueSchema) },
    });
  }

  /** A new stream segment: a transaction cut short by a reconnect is read again from its start. */
  reset(): void {
    this.decoder.reset();
  }

  encode(job: unknown): EncodedBatch {
    const out = new Output(this.decoder.sizeHint(job));
    const now = BigInt(Date.now());
    for (const r of this.decoder.records(job, this.schemaOf)) this.record(out, r, now);
    return out.finish();
  }

  private record(out: Output, r: ChangeRecord, now: bigint): void {
    const t = this.table(r.ref);
    if (r.op === 't') {
      out.message(t, 't', null, truncateEvent(this.settings.source, t.schema, r.position, now, r.scope ?? null));
      return;
    }
    if ((r.before && !this.fits(out, t, r.op, r.before, r.position)) || (r.after && !this.fits(out, t, r.op, r.after, r.position))) return;
    const ev = changeEvent(this.settings.source, t.schema, r.op, r.before, r.after, r.position, now);
    const key = out.message(t, r.op, ev.key, ev.envelope);
    if (r.op === 'd' && this.settings.tombstonesOnDelete) out.tombstone(t, key);
  }

  /**
   * Whether a row image is within the size ceiling. Past it, the job fails (nothing of it or after it is
   * sent) — or, for a table whose choice is dead-letter, a record naming the row takes the change's place.
   */
  private fits(out: Output, t: KnownTable, op: string, tuple: Tuple, pos: Position): boolean {
    const found = findOversize(t.schema, tuple, this.settings.limits);
    if (!found) return true;
    const name = `${t.schema.schema}.${t.schema.table}`;
    if (!this.deadLetter.has(name)) throw rowTooLarge(t.schema, tuple, found);
    const position = {
      commit_lsn: pos.commitLsn.toString(), tx_seq: pos.seq.toString(), lsn: pos.lsn?.toString() ?? null,
      tx_id: pos.txId?.toString() ?? null, commit_ts_us: pos.commitTimeUs.toString(), snapshot: pos.snapshot,
    };
    out.deadLetter(t, keyOf(t.schema, tupleToRow(t.schema, keyOnly(t.schema, tuple)).record), deadLetterRecord(t.schema, tuple, found, op, position));
    return false;
  }

  private table(ref: number): KnownTable {
    const t = this.tables.get(ref);
    if (!t) throw new Error(`table ref ${ref} was never defined to the encoder`);
    return t;
  }
}

/** Only the key columns of a row (the others null): enough to build its key without converting large values. */
function keyOnly(t: TableSchema, tuple: Tuple): Tuple {
  return tuple.map((v, i) => (t.columns[i]!.isKey ? v : null));
}
