// A captured table: its change-event schema description (record-decoder.ts) and the SELECT that reads its
// rows as text together with what positions them. Pure.
import { chIdent, mapClickHouseColumn } from './clickhouse-types.ts';
import type { ClickHouseTableSource } from './record-decoder.ts';
import type { TableIdentity } from './table-identity.ts';
import type { MappingOptions } from '../../schemas/src/pg-types.ts';

export interface CapturedTable {
  database: string;
  table: string;
  source: ClickHouseTableSource;
  /** the table's columns as system.columns reports them, and its identity (to notice a change and rebuild) */
  columns: Array<{ name: string; type: string }>;
  identity: TableIdentity;
  /** the SELECT list: every column as text, then the version (µs or integer text), the is_deleted flag, _part and _part_offset */
  selectList: string;
  /** each column's text expression (source.columns' order, derived keys included) */
  columnExprs: string[];
  /** the version column is a DateTime(64): versions are change times */
  timeVersion: boolean;
}

/** Name of the column that carries a sorting-key expression, e.g. toDate(timestamp) → _key_toDate_timestamp */
export function derivedKeyName(expr: string): string {
  return `_key_${expr.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_+|_+$/g, '')}`;
}

/**
 * The sorting key is the row identity ReplacingMergeTree deduplicates by, so it is the mirror's key: its plain
 * columns, and each expression in it (toDate(timestamp), xxHash32(trace_id), …) as a column of its own holding
 * the expression's value. Two versions whose expression values differ are two rows to FINAL, and to the mirror.
 */
export function capturedTable(
  database: string, table: string, columns: Array<{ name: string; type: string }>, identity: TableIdentity,
  mapping: MappingOptions, keyColumns?: string[],
): CapturedTable {
  const derived = keyColumns ? [] : identity.derivedKeys.map((expr) => ({ name: derivedKeyName(expr), type: 'String', expr }));
  const keys = keyColumns ?? [...identity.keyColumns, ...derived.map((d) => d.name)];
  const all = [...columns, ...derived.map(({ name, type }) => ({ name, type }))];
  const source: ClickHouseTableSource = { database, table, columns: all, keyColumns: keys, mapping };
  const q = `${database}.${table}`;
  const exprs = columns.map((c) => mapClickHouseColumn(c.type, mapping, q, c.name).select(chIdent(c.name)))
    .concat(derived.map((d) => `toString(${d.expr})`));
  const versionType = identity.versionColumn ? columns.find((c) => c.name === identity.versionColumn)?.type ?? '' : '';
  const timeVersion = /^(Nullable\()?DateTime/.test(versionType);
  const v = identity.versionColumn ? chIdent(identity.versionColumn) : null;
  const version = !v ? "'0'"
    : /DateTime64/.test(versionType) ? `toString(toUnixTimestamp64Micro(${v}))`
    : /DateTime/.test(versionType) ? `toString(toUInt64(toUnixTimestamp(${v})) * 1000000)`
    : /Date/.test(versionType) ? `toString(toInt64(toInt32(${v})) * 86400000000)`
    : `toString(${v})`;
  const deleted = identity.deletedColumn ? `toString(${chIdent(identity.deletedColumn)})` : "'0'";
  return {
    database, table, source, timeVersion, columns, identity, columnExprs: exprs,
    selectList: [...exprs, version, deleted, '_part', 'toString(_part_offset)'].join(', '),
  };
}
