// A change record (change-record.ts) → the Kafka key and the Debezium-shaped envelope. Pure.
import { CONNECTOR_VERSION, type Envelope, type Op, type SourceInfo, type TableSchema } from '../../schemas/src/envelope.ts';
import { keyOf, tupleToRow } from './row.ts';
import type { Position, Tuple } from './change-record.ts';
import type { RowScope } from '../../schemas/src/row-scope.ts';

export interface ChangeEvent {
  key: Record<string, unknown>;
  envelope: Envelope;
}

export interface SourceContext {
  /** the source's kind, the envelope's source.connector (e.g. tracelake-postgresql) */
  connector: string;
  /** the topic prefix, Debezium's source.name */
  name: string;
  /** the source's database */
  db: string;
}

export function changeEvent(
  ctx: SourceContext, table: TableSchema, op: Exclude<Op, 't'>,
  before: Tuple | null, after: Tuple | null, pos: Position, nowMs: bigint,
): ChangeEvent {
  const b = before ? tupleToRow(table, before) : null;
  const a = after ? tupleToRow(table, after) : null;
  const keySource = a?.record ?? b?.record;
  if (!keySource) throw new Error('a change needs a before or an after image');
  const unchanged = a && a.unchanged.length > 0 ? a.unchanged : null;
  return {
    key: keyOf(table, keySource),
    envelope: { before: b?.record ?? null, after: a?.record ?? null, source: source(ctx, table, pos), op, ts_ms: nowMs, unchanged_toast: unchanged, scope: null },
  };
}

/** A truncate: no key, no row images (as Debezium's op 't'); with a scope, only the rows in it (schemas/src/row-scope.ts). */
export function truncateEvent(ctx: SourceContext, table: TableSchema, pos: Position, nowMs: bigint, scope: RowScope | null = null): Envelope {
  return { before: null, after: null, source: source(ctx, table, pos), op: 't', ts_ms: nowMs, unchanged_toast: null, scope: scope ? JSON.stringify(scope) : null };
}

function source(ctx: SourceContext, table: TableSchema, pos: Position): SourceInfo {
  return {
    version: CONNECTOR_VERSION,
    connector: ctx.connector,
    name: ctx.name,
    ts_ms: pos.commitTimeUs / 1000n,
    ts_us: pos.commitTimeUs,
    snapshot: pos.snapshot,
    db: ctx.db,
    sequence: JSON.stringify([pos.commitLsn.toString(), pos.lsn === null ? null : pos.lsn.toString()]),
    schema: table.schema,
    table: table.table,
    txId: pos.txId,
    lsn: pos.lsn,
    xmin: null,
    commit_lsn: pos.commitLsn,
    tx_seq: pos.seq,
  };
}
