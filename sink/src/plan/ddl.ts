// DDL for mirror tables: creation with CDC metadata columns, the hard-delete tombstone table, and
// additive schema evolution. Pure.
import { sqlIdent } from '../sql/literals.ts';
import { META_COLUMNS, type PlanColumn } from './merge-plan.ts';

export interface TableLayout {
  target: string;
  tombstones: string;
  /** rows too large for one statement are staged here (plan/staged-merge.ts; created when first needed) */
  staged: string;
  /** columns to cluster by (liquid clustering), e.g. time and project */
  clusterBy: string[];
  /** Delta table properties of the target and tombstone tables (the stage of large rows is scratch) */
  properties: Record<string, string>;
}

/** ` TBLPROPERTIES (…)`, or nothing; names and values are validated config (sink/src/config.ts), never row data */
function tblProperties(layout: Pick<TableLayout, 'properties'>): string {
  const props = Object.entries(layout.properties);
  return props.length > 0 ? ` TBLPROPERTIES (${props.map(([k, v]) => `'${k}' = '${v}'`).join(', ')})` : '';
}

export function createTable(layout: TableLayout, columns: PlanColumn[]): string {
  const defs = columns.map((c) => `${sqlIdent(c.name)} ${c.type.sql}`).concat(META_COLUMNS.map(([n, t]) => `${n} ${t}`));
  const cluster = layout.clusterBy.length > 0 ? ` CLUSTER BY (${layout.clusterBy.map(sqlIdent).join(', ')})` : '';
  return `CREATE TABLE IF NOT EXISTS ${layout.target} (${defs.join(', ')}) USING DELTA${cluster}${tblProperties(layout)}`;
}

export function createTombstones(layout: TableLayout, columns: PlanColumn[]): string {
  const keys = columns.filter((c) => c.isKey).map((c) => `${sqlIdent(c.name)} ${c.type.sql}`);
  return `CREATE TABLE IF NOT EXISTS ${layout.tombstones} (${keys.join(', ')}, _commit_lsn BIGINT, _tx_seq BIGINT) USING DELTA${tblProperties(layout)}`;
}

export function addColumns(layout: TableLayout, columns: PlanColumn[]): string {
  return `ALTER TABLE ${layout.target} ADD COLUMNS (${columns.map((c) => `${sqlIdent(c.name)} ${c.type.sql}`).join(', ')})`;
}
