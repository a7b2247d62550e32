// What every source hands the emitter, whatever it reads (docs/architecture.md, "The source seam"): change
// records of registered tables — row images as raw values in column order, each turned into its Avro value by
// the column's converter — and the position that orders them. Pure types.
//
// A source's records are produced on the encoder's thread (encoder.ts) by the source's own RecordDecoder, from
// jobs in whatever form is cheapest for the source to hand over (Postgres: packed pgoutput messages), so
// decoding and Avro encoding use a core of their own.
import type { Op, TableSchema } from '../../schemas/src/envelope.ts';
import type { RowScope } from '../../schemas/src/row-scope.ts';
import type { Utf8Text } from '../../schemas/src/utf8-text.ts';

/** A value the source did not send because it did not change (Postgres: an unchanged TOASTed datum): the sink keeps the stored one. */
export const UNCHANGED: unique symbol = Symbol('unchanged');
/**
 * A column's raw value as the source read it (null: SQL NULL): its text, as a string or as the UTF-8 bytes the
 * source sent (utf8-text.ts); its column's converter makes the Avro value.
 */
export type ColumnValue = string | Utf8Text | null | typeof UNCHANGED;
/** A row image: one raw value per column of the table schema, in its order. */
export type Tuple = ColumnValue[];

/**
 * Where an event stands in its source. `commitLsn` and `seq` are the position the sink orders and
 * deduplicates by (envelope fields `source.commit_lsn`, `source.tx_seq`): for one key they only ever increase,
 * and the same change read twice has the same position. `lsn` and `txId` are Postgres' own (null elsewhere).
 */
export interface Position {
  /** the position of the commit (or consistent snapshot point) the event belongs to */
  commitLsn: bigint;
  /** order within that commit or snapshot, from 0 */
  seq: bigint;
  /** the event's own place in the source's log, where it has one (Postgres: WAL LSN; null for snapshot reads) */
  lsn: bigint | null;
  txId: bigint | null;
  /** when the source committed the change, µs since 1970 */
  commitTimeUs: bigint;
  /** 'true' for a snapshot read */
  snapshot: 'true' | 'last' | 'false';
}

export interface ChangeRecord {
  /** the registered table (Emitter.register) */
  ref: number;
  op: Op;
  /** the row before (deletes, and updates where the source has it) */
  before: Tuple | null;
  /** the row after (creates, updates, snapshot reads) */
  after: Tuple | null;
  position: Position;
  /** op `t`: the rows it removes (null or absent: all older rows) */
  scope?: RowScope | null;
}

/**
 * A source's half of the encoder, run on the encoder's thread: it rebuilds table schemas (their converters
 * are functions, which do not cross threads) from the plain descriptions the source registered, and turns
 * the source's jobs into records. A module that exports `createRecordDecoder()` returning one.
 */
export interface RecordDecoder {
  /** A table schema, converters included, from what the source registered (plain data). */
  table(description: unknown): TableSchema;
  /** A new stream segment: forget a transaction cut short. */
  reset(): void;
  /** A rough size of the job's encoded output, to allocate it once. */
  sizeHint(job: unknown): number;
  /** The job's records, in order; `table(ref)` is the schema of a registered table. */
  records(job: unknown, table: (ref: number) => TableSchema): Iterable<ChangeRecord>;
}

/** A job for the encoder: the source's payload, and the buffers in it that move to the encoder's thread without a copy (and must not be used after). */
export interface SourceJob {
  payload: unknown;
  transfer?: ArrayBuffer[];
}

/** A rough encoded size of jobs that carry their rows as tuples of text (RecordDecoder.sizeHint). */
export function tupleSizeHint(rows: Tuple[]): number {
  let n = 0;
  for (const row of rows) for (const v of row) if (typeof v === 'string') n += v.length;
  return n * 2 + rows.length * 256;
}
