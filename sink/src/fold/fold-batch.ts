// Folds a micro-batch of one table's events into at most one row per key, so that a single MERGE can
// apply the batch ("multiple source rows matched" cannot happen). Pure.
//
// Events are applied in source order (commit LSN, then order in the transaction). The last event of a key
// wins; a column the last event marks as unchanged-TOAST takes its value from an earlier event of the same
// batch when one carried it, and otherwise stays "unchanged" so the MERGE keeps the stored value.
import type { TableEvent } from '../decode/table-event.ts';
import { inScope, type RowScope } from '../../../schemas/src/row-scope.ts';

export interface FoldedRow {
  keyJson: string;
  op: 'upsert' | 'delete';
  /** the row's values by Avro field (key fields always present) */
  values: Record<string, unknown>;
  /** fields whose stored value must be kept */
  unchanged: Set<string>;
  commitLsn: bigint;
  seq: bigint;
  sourceTsMs: bigint;
  /** the events folded into this row, oldest first */
  events: TableEvent[];
}

export interface FoldResult {
  rows: FoldedRow[];
  /** a truncate in the batch: its position; rows above are after it */
  truncateAt: { commitLsn: bigint; seq: bigint } | null;
  /** truncates of the rows in a scope (a DELETE by predicate), in order: each removes the older rows it selects */
  scoped: Array<{ commitLsn: bigint; seq: bigint; scope: RowScope }>;
}

export function compareEvents(a: { commitLsn: bigint; seq: bigint }, b: { commitLsn: bigint; seq: bigint }): number {
  if (a.commitLsn !== b.commitLsn) return a.commitLsn < b.commitLsn ? -1 : 1;
  return a.seq === b.seq ? 0 : a.seq < b.seq ? -1 : 1;
}

const keyJson = (key: Record<string, unknown>) =>
  JSON.stringify(key, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : Buffer.isBuffer(v) ? v.toString('base64') : v));

export function foldBatch(events: TableEvent[]): FoldResult {
  const ordered = [...events].sort(compareEvents);
  const rows = new Map<string, FoldedRow>();
  let truncateAt: FoldResult['truncateAt'] = null;
  const scoped: FoldResult['scoped'] = [];
  for (const ev of ordered) {
    if (ev.op === 't' && ev.scope) {
      // the rows of the batch before it that it selects are gone (deletes stay deletes)
      const scope = ev.scope;
      const fieldOf = new Map(ev.columns.map((c) => [c.name, c.field]));
      for (const [k, r] of rows) {
        if (r.op === 'upsert' && inScope(scope, (column) => r.values[fieldOf.get(column) ?? column]) === true) rows.delete(k);
      }
      scoped.push({ commitLsn: ev.commitLsn, seq: ev.seq, scope });
      continue;
    }
    if (ev.op === 't') {
      // everything before the truncate is gone; later events start from an empty table
      rows.clear();
      scoped.length = 0;
      truncateAt = { commitLsn: ev.commitLsn, seq: ev.seq };
      continue;
    }
    if (!ev.key || !ev.row) continue;
    const k = keyJson(ev.key);
    const prev = rows.get(k);
    if (ev.op === 'd') {
      rows.set(k, { keyJson: k, op: 'delete', values: { ...ev.key }, unchanged: new Set(), commitLsn: ev.commitLsn, seq: ev.seq, sourceTsMs: ev.sourceTsMs, events: [...(prev?.events ?? []), ev] });
      continue;
    }
    const values = { ...ev.row };
    const unchanged = new Set<string>();
    for (const f of ev.unchanged) {
      if (prev && prev.op === 'upsert' && !prev.unchanged.has(f) && f in prev.values) values[f] = prev.values[f];
      else unchanged.add(f);
    }
    rows.set(k, { keyJson: k, op: 'upsert', values, unchanged, commitLsn: ev.commitLsn, seq: ev.seq, sourceTsMs: ev.sourceTsMs, events: [...(prev?.events ?? []), ev] });
  }
  return { rows: [...rows.values()], truncateAt, scoped };
}
