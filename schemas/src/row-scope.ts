// A scoped truncate's rows: which rows of a table a delete by predicate removes (envelope field `scope` of an op
// `t` event; a truncate without one removes every row older than it). The ClickHouse source sends one for a
// lightweight DELETE, whose deleted rows may be merged away before it could read their keys
// (docs/sources/clickhouse.md). Part of the contract between connector and sink. Pure.
//
// Columns are named as in the source table; each value is the text of the column's cell — what the sink's
// MERGE cells hold (sink/src/delta/column-types.ts), as a string: strings themselves, longs and timestamps (µs)
// as integer digits, dates as days, booleans as true/false, decimals as their exact text.

export type RowScope =
  | { and: RowScope[] }
  | { or: RowScope[] }
  | { not: RowScope }
  | { column: string; op: '=' | '!=' | '<' | '<=' | '>' | '>='; value: ScopeValue }
  | { column: string; in: ScopeValue[] };

/** A cell's text. */
export type ScopeValue = string;

/** The scope's (column, value) pairs in order: what a statement binds. */
export function scopeValues(scope: RowScope): Array<{ column: string; value: ScopeValue | ScopeValue[] }> {
  if ('and' in scope) return scope.and.flatMap(scopeValues);
  if ('or' in scope) return scope.or.flatMap(scopeValues);
  if ('not' in scope) return scopeValues(scope.not);
  return [{ column: scope.column, value: 'in' in scope ? scope.in : scope.value }];
}

/** Compares a decoded row value with a cell's text, in the row value's type; null when it cannot be compared. */
function compare(a: unknown, b: ScopeValue): number | null {
  if (a === null || a === undefined) return null;
  if (typeof a === 'bigint') {
    if (!/^-?\d+$/.test(b)) return null;
    const y = BigInt(b);
    return a === y ? 0 : a < y ? -1 : 1;
  }
  if (typeof a === 'number') {
    const y = Number(b);
    return Number.isNaN(y) ? null : a === y ? 0 : a < y ? -1 : 1;
  }
  if (typeof a === 'boolean') return a === (b === 'true') ? 0 : a ? 1 : -1;
  if (typeof a === 'string') return Buffer.compare(Buffer.from(a), Buffer.from(b));
  return null; // bytes, decimals, arrays: not compared in the batch (the statement decides)
}

/**
 * SQL's three-valued AND (`settles` false) and OR (`settles` true): the first term equal to `settles` decides;
 * otherwise unknown if any term is, else the other value. Terms are evaluated only as far as needed.
 */
function decide(terms: Array<() => boolean | null>, settles: boolean): boolean | null {
  let unknown = false;
  for (const term of terms) {
    const r = term();
    if (r === settles) return settles;
    if (r === null) unknown = true;
  }
  return unknown ? null : !settles;
}

/**
 * Whether a row (values by column name, as the sink decodes them) is in the scope. SQL's three values: a
 * comparison with NULL is unknown, and an unknown row is not in the scope (nor in its NOT).
 */
export function inScope(scope: RowScope, row: (column: string) => unknown): boolean | null {
  if ('and' in scope) return decide(scope.and.map((s) => () => inScope(s, row)), false);
  if ('or' in scope) return decide(scope.or.map((s) => () => inScope(s, row)), true);
  if ('not' in scope) {
    const r = inScope(scope.not, row);
    return r === null ? null : !r;
  }
  const v = row(scope.column);
  if ('in' in scope) return decide(scope.in.map((x) => () => { const c = compare(v, x); return c === null ? null : c === 0; }), true);
  const c = compare(v, scope.value);
  if (c === null) return null;
  switch (scope.op) {
    case '=': return c === 0;
    case '!=': return c !== 0;
    case '<': return c < 0;
    case '<=': return c <= 0;
    case '>': return c > 0;
    case '>=': return c >= 0;
  }
}
