// The Postgres source's half of the encoder (emitter/encode/change-record.ts): runs on the encoder's thread and
// turns the source's jobs — packed pgoutput row changes (change-items.ts) and snapshot rows — into change
// records. Pure.
import { decodePgoutput } from './pgoutput.ts';
import { readChangeItems, BEGIN, TRUNCATE } from './change-items.ts';
import { buildTableSchema } from './table-schema.ts';
import { UNCHANGED, type ChangeRecord, type Position, type RecordDecoder, type Tuple } from '../../emitter/encode/change-record.ts';
import type { TableSchema } from '../../schemas/src/envelope.ts';
import { sameValue } from '../../schemas/src/utf8-text.ts';
import type { MappingOptions, PgTypeInfo } from '../../schemas/src/pg-types.ts';

/** What a table's schema is built from: the columns as Postgres reports them, the key, the types. */
export interface TableSource {
  schema: string;
  table: string;
  columns: Array<{ name: string; typeOid: number; typeMod: number }>;
  keyColumns: string[];
  types: PgTypeInfo[];
  mapping: MappingOptions;
}

export type PostgresJob =
  | { kind: 'changes'; items: ArrayBuffer; length: number; attached: ArrayBuffer[] }
  | { kind: 'rows'; ref: number; rows: Tuple[]; commitLsn: bigint; seq: bigint; commitTimeUs: bigint };

export function buildTable(source: TableSource): TableSchema {
  return buildTableSchema(source.schema, source.table, source.columns, source.keyColumns, new Map(source.types.map((t) => [t.oid, t])), source.mapping);
}

export function createRecordDecoder(): RecordDecoder {
  return new PostgresRecordDecoder();
}

class PostgresRecordDecoder implements RecordDecoder {
  /** the transaction the next changes belong to (a transaction may span jobs) */
  private tx: { finalLsn: bigint; xid: bigint; commitTimeUs: bigint; seq: bigint } | null = null;

  table(description: unknown): TableSchema {
    return buildTable(description as TableSource);
  }

  reset(): void {
    this.tx = null;
  }

  sizeHint(job: unknown): number {
    const j = job as PostgresJob;
    return j.kind === 'changes' ? (j.length + j.attached.reduce((n, b) => n + b.byteLength, 0)) * 2 : j.rows.length * 512;
  }

  records(job: unknown, table: (ref: number) => TableSchema): Iterable<ChangeRecord> {
    const j = job as PostgresJob;
    return j.kind === 'rows' ? rows(j) : this.changes(j, table);
  }

  private *changes(job: Extract<PostgresJob, { kind: 'changes' }>, table: (ref: number) => TableSchema): Generator<ChangeRecord> {
    for (const item of readChangeItems(job.items, job.length, job.attached)) {
      if (item.kind === BEGIN) {
        this.tx = { finalLsn: item.finalLsn, xid: BigInt(item.xid), commitTimeUs: item.commitTimeUs, seq: 0n };
        continue;
      }
      const ref = item.ref;
      if (item.kind === TRUNCATE) {
        yield { ref, op: 't', before: null, after: null, position: this.position(item.walLsn) };
        continue;
      }
      const msg = decodePgoutput(item.message);
      switch (msg.tag) {
        case 'insert':
          yield { ref, op: 'c', before: null, after: msg.newTuple, position: this.position(item.walLsn) };
          break;
        case 'update': {
          const after = msg.oldKind === 'old' && msg.oldTuple ? fillUnchanged(msg.newTuple, msg.oldTuple) : msg.newTuple;
          if (msg.oldTuple && keyChanged(table(ref), msg.oldTuple, after)) {
            // a primary-key change is a delete of the old key and a create of the new one (as in Debezium)
            yield { ref, op: 'd', before: msg.oldTuple, after: null, position: this.position(item.walLsn) };
            yield { ref, op: 'c', before: null, after, position: this.position(item.walLsn) };
          } else {
            yield { ref, op: 'u', before: msg.oldKind === 'old' ? msg.oldTuple : null, after, position: this.position(item.walLsn) };
          }
          break;
        }
        case 'delete':
          yield { ref, op: 'd', before: msg.oldTuple, after: null, position: this.position(item.walLsn) };
          break;
        default:
          throw new Error(`a ${msg.tag} message is not a row change`);
      }
    }
  }

  private position(walLsn: bigint): Position {
    if (!this.tx) throw new Error('change outside a transaction');
    return {
      commitLsn: this.tx.finalLsn, seq: this.tx.seq++, lsn: walLsn, txId: this.tx.xid,
      commitTimeUs: this.tx.commitTimeUs, snapshot: 'false',
    };
  }
}

/** Snapshot rows: reads positioned at the snapshot's consistent point, numbered from the job's `seq`. */
function* rows(job: Extract<PostgresJob, { kind: 'rows' }>): Generator<ChangeRecord> {
  let seq = job.seq;
  for (const row of job.rows) {
    yield { ref: job.ref, op: 'r', before: null, after: row, position: { commitLsn: job.commitLsn, seq: seq++, lsn: null, txId: null, commitTimeUs: job.commitTimeUs, snapshot: 'true' } };
  }
}

/** With REPLICA IDENTITY FULL the old row carries the values an UPDATE left TOASTed and unchanged. */
function fillUnchanged(newTuple: Tuple, oldTuple: Tuple): Tuple {
  return newTuple.map((v, i) => (v === UNCHANGED && oldTuple[i] !== UNCHANGED ? (oldTuple[i] ?? null) : v));
}

function keyChanged(t: TableSchema, oldTuple: Tuple, newTuple: Tuple): boolean {
  return t.columns.some((c, i) => c.isKey && oldTuple[i] !== null && !sameValue(oldTuple[i], newTuple[i]));
}
