// The CPU-heavy middle of the connector: row changes (packed pgoutput messages) and snapshot rows in, Kafka
// keys and values in the registry's wire format out — decoding, type conversion, the Debezium envelope and
// Avro encoding. Pure (no I/O), so the same code runs on the event loop or in a worker thread (encoder.ts).
//
// The output of a job is one buffer holding every key and value back to back, and an index of six int32 per
// message: table ref, op, key offset, key length, value offset, value length (-1: null). Both can be
// transferred between threads without a copy.
import { decodePgoutput, UNCHANGED_TOAST, type Tuple } from '../../sources/postgres/pgoutput.ts';
import { changeEvent, truncateEvent, type Position, type SourceContext } from './change-event.ts';
import { keyOf, tupleToRow } from './row.ts';
import { buildTableSchema } from '../../sources/postgres/table-schema.ts';
import { readChangeItems, BEGIN, TRUNCATE } from '../../sources/postgres/change-items.ts';
import { avroType, type AvroSchema } from '../../schemas/src/avro/types.ts';
import type { Envelope, TableSchema } from '../../schemas/src/envelope.ts';
import type { MappingOptions, PgTypeInfo } from '../../schemas/src/pg-types.ts';
import { writeWire, type RegisteredSchema } from '../../schemas/src/wire-format.ts';
import { deadLetterRecord, findOversize, rowTooLarge, type RowLimits } from './row-limits.ts';

/** What a table's schema is built from: the columns as Postgres reports them, the key, the types. */
export interface TableSource {
  schema: string;
  table: string;
  columns: Array<{ name: string; typeOid: number; typeMod: number }>;
  keyColumns: string[];
  types: PgTypeInfo[];
  mapping: MappingOptions;
}

/** A table as the encoder knows it: plain data, so it can be posted to a worker thread. */
export interface TableDefinition {
  ref: number;
  source: TableSource;
  keyId: number;
  keySchema: AvroSchema;
  valueId: number;
  valueSchema: AvroSchema;
}

export type EncodeJob =
  | { kind: 'changes'; items: ArrayBuffer; length: number }
  | { kind: 'rows'; ref: number; rows: Tuple[]; commitLsn: bigint; seq: bigint; commitTimeUs: bigint };

export interface EncodedBatch {
  /** the keys and values (the buffer may be longer than what the index points at) */
  bytes: ArrayBuffer;
  index: Int32Array;
}

export const INDEX_STRIDE = 6;
/** op codes in the index; a tombstone (null value after a delete) is not an event of its own */
export const OPS = ['r', 'c', 'u', 'd', 't'] as const;
export const TOMBSTONE = -1;
/** a row past the size ceiling, dead-lettered: the value is a JSON record (row-limits.ts), not Avro */
export const DEAD_LETTER = -2;
const OP_CODE = { r: 0, c: 1, u: 2, d: 3, t: 4 } as const;

export function buildTable(source: TableSource): TableSchema {
  return buildTableSchema(source.schema, source.table, source.columns, source.keyColumns, new Map(source.types.map((t) => [t.oid, t])), source.mapping);
}

interface KnownTable {
  ref: number;
  schema: TableSchema;
  key: RegisteredSchema;
  value: RegisteredSchema;
}

export interface EncoderSettings {
  source: SourceContext;
  /** a tombstone (null value) after each delete, for log compaction */
  tombstonesOnDelete: boolean;
  /** the size ceiling of a row image (row-limits.ts) */
  limits: RowLimits;
}

export class EventEncoder {
  private readonly settings: EncoderSettings;
  private readonly tables = new Map<number, KnownTable>();
  private readonly deadLetter: Set<string>;
  /** the transaction the next changes belong to (a transaction may span jobs) */
  private tx: { finalLsn: bigint; xid: bigint; commitTimeUs: bigint; seq: bigint } | null = null;

  constructor(settings: EncoderSettings) {
    this.settings = settings;
    this.deadLetter = new Set(settings.limits.deadLetter ?? []);
  }

  define(def: TableDefinition): void {
    this.tables.set(def.ref, {
      ref: def.ref, schema: buildTable(def.source),
      key: { id: def.keyId, type: avroType(def.keySchema) }, value: { id: def.valueId, type: avroType(def.valueSchema) },
    });
  }

  /** A new stream segment: a transaction cut short by a reconnect is read again from its start. */
  reset(): void {
    this.tx = null;
  }

  encode(job: EncodeJob): EncodedBatch {
    const out = new Output(job.kind === 'changes' ? job.length * 2 : job.rows.length * 512);
    if (job.kind === 'rows') this.rows(out, job);
    else this.changes(out, job.items, job.length);
    return out.finish();
  }

  private rows(out: Output, job: Extract<EncodeJob, { kind: 'rows' }>): void {
    const t = this.table(job.ref);
    let seq = job.seq;
    const now = BigInt(Date.now());
    for (const row of job.rows) {
      const pos: Position = { commitLsn: job.commitLsn, seq: seq++, lsn: null, txId: null, commitTimeUs: job.commitTimeUs, snapshot: 'true' };
      if (!this.fits(out, t, 'r', row, pos)) continue;
      const ev = changeEvent(this.settings.source, t.schema, 'r', null, row, pos, now);
      out.message(t, 'r', ev.key, ev.envelope);
    }
  }

  private changes(out: Output, items: ArrayBuffer, length: number): void {
    const now = BigInt(Date.now());
    for (const item of readChangeItems(items, length)) {
      if (item.kind === BEGIN) {
        this.tx = { finalLsn: item.finalLsn, xid: BigInt(item.xid), commitTimeUs: item.commitTimeUs, seq: 0n };
        continue;
      }
      const t = this.table(item.ref);
      if (item.kind === TRUNCATE) {
        out.message(t, 't', null, truncateEvent(this.settings.source, t.schema, this.position(item.walLsn), now));
        continue;
      }
      const msg = decodePgoutput(item.message);
      switch (msg.tag) {
        case 'insert':
          this.change(out, t, 'c', null, msg.newTuple, item.walLsn, now);
          break;
        case 'update': {
          const after = msg.oldKind === 'old' && msg.oldTuple ? fillUnchanged(msg.newTuple, msg.oldTuple) : msg.newTuple;
          if (msg.oldTuple && keyChanged(t.schema, msg.oldTuple, after)) {
            // a primary-key change is a delete of the old key and a create of the new one (as in Debezium)
            this.change(out, t, 'd', msg.oldTuple, null, item.walLsn, now);
            this.change(out, t, 'c', null, after, item.walLsn, now);
          } else {
            this.change(out, t, 'u', msg.oldKind === 'old' ? msg.oldTuple : null, after, item.walLsn, now);
          }
          break;
        }
        case 'delete':
          this.change(out, t, 'd', msg.oldTuple, null, item.walLsn, now);
          break;
        default:
          throw new Error(`a ${msg.tag} message is not a row change`);
      }
    }
  }

  private change(out: Output, t: KnownTable, op: 'c' | 'u' | 'd', before: Tuple | null, after: Tuple | null, walLsn: bigint, now: bigint): void {
    const pos = this.position(walLsn);
    if ((before && !this.fits(out, t, op, before, pos)) || (after && !this.fits(out, t, op, after, pos))) return;
    const ev = changeEvent(this.settings.source, t.schema, op, before, after, pos, now);
    const key = out.message(t, op, ev.key, ev.envelope);
    if (op === 'd' && this.settings.tombstonesOnDelete) out.tombstone(t, key);
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

  private position(walLsn: bigint): Position {
    if (!this.tx) throw new Error('change outside a transaction');
    return {
      commitLsn: this.tx.finalLsn, seq: this.tx.seq++, lsn: walLsn, txId: this.tx.xid,
      commitTimeUs: this.tx.commitTimeUs, snapshot: 'false',
    };
  }

  private table(ref: number): KnownTable {
    const t = this.tables.get(ref);
    if (!t) throw new Error(`table ref ${ref} was never defined to the encoder`);
    return t;
  }
}

/** The job's messages, encoded back to back into one buffer that grows as needed. */
class Output {
  private buf: Buffer;
  private pos = 0;
  private index: number[] = [];

  constructor(bytes: number) {
    this.buf = Buffer.allocUnsafeSlow(Math.max(4096, bytes)); // not zero-filled: only written ranges are read
  }

  /** Writes key (unless null) and value; returns where the key is, for a tombstone that follows. */
  message(t: KnownTable, op: keyof typeof OP_CODE, key: Record<string, unknown> | null, value: Envelope): [number, number] {
    const [keyOff, keyLen] = key === null ? [0, -1] : this.wire(t.key, key);
    const [valueOff, valueLen] = this.wire(t.value, value);
    this.index.push(t.ref, OP_CODE[op], keyOff, keyLen, valueOff, valueLen);
    return [keyOff, keyLen];
  }

  /** A dead-lettered row: its Avro key, and the JSON record in place of a value. */
  deadLetter(t: KnownTable, key: Record<string, unknown>, record: Buffer): void {
    const [keyOff, keyLen] = this.wire(t.key, key);
    this.ensure(record.length);
    record.copy(this.buf, this.pos);
    this.index.push(t.ref, DEAD_LETTER, keyOff, keyLen, this.pos, record.length);
    this.pos += record.length;
  }

  private ensure(bytes: number): void {
    if (this.pos + bytes > this.buf.length) this.grow(this.pos + bytes);
  }

  tombstone(t: KnownTable, [keyOff, keyLen]: [number, number]): void {
    this.index.push(t.ref, TOMBSTONE, keyOff, keyLen, 0, -1);
  }

  finish(): EncodedBatch {
    return { bytes: this.buf.buffer as ArrayBuffer, index: Int32Array.from(this.index) };
  }

  private wire(schema: RegisteredSchema, value: unknown): [number, number] {
    const start = this.pos;
    let end = writeWire(schema, value, this.buf, start);
    if (end < 0) {
      this.grow(this.buf.length - end);
      end = writeWire(schema, value, this.buf, start);
    }
    this.pos = end;
    return [start, end - start];
  }

  private grow(atLeast: number): void {
    const grown = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, atLeast));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }
}

/** Only the key columns of a row (the others null): enough to build its key without converting large values. */
function keyOnly(t: TableSchema, tuple: Tuple): Tuple {
  return tuple.map((v, i) => (t.columns[i]!.isKey ? v : null));
}

/** With REPLICA IDENTITY FULL the old row carries the values an UPDATE left TOASTed and unchanged. */
function fillUnchanged(newTuple: Tuple, oldTuple: Tuple): Tuple {
  return newTuple.map((v, i) => (v === UNCHANGED_TOAST && oldTuple[i] !== UNCHANGED_TOAST ? (oldTuple[i] ?? null) : v));
}

function keyChanged(t: TableSchema, oldTuple: Tuple, newTuple: Tuple): boolean {
  return t.columns.some((c, i) => c.isKey && oldTuple[i] !== null && oldTuple[i] !== newTuple[i]);
}
