// The statement of a scoped truncate (schemas/src/row-scope.ts): the mirror's rows older than it that its scope
// selects are deleted (hard) or marked deleted at its position (soft, so that an older upsert arriving later
// changes nothing). Pure.
//
// The scope's values are row data (ids, times): like a MERGE's rows they travel as one JSON document in one raw
// literal, made rawSafe, read back by from_json — never as SQL literals the engine could rewrite. The one-row
// document is the MERGE's source; the scope is its ON condition over the target row and the parsed values.
import { sqlIdent } from '../sql/literals.ts';
import { rawSafe, type TablePlanInput } from './merge-plan.ts';
import { scopeValues, type RowScope } from '../../../schemas/src/row-scope.ts';
import { TracelakeError } from '../../../schemas/src/errors.ts';

const q = sqlIdent;

export function planScopedTruncate(p: TablePlanInput, at: { commitLsn: bigint; seq: bigint }, scope: RowScope): string {
  const byName = new Map(p.columns.map((c) => [c.name, c]));
  const values = scopeValues(scope);
  for (const { column } of values) {
    if (!byName.has(column)) {
      throw new TracelakeError(`a DELETE's predicate names column ${column}, which ${p.target} does not have`, {
        code: 'SCOPE_COLUMN_MISSING', remedy: 'the table lost a column the source still filters on: check the mirror\'s schema against the source table',
      });
    }
  }
  const fields = values.map(({ value }, i) => `v${i}: ${Array.isArray(value) ? 'ARRAY<STRING>' : 'STRING'}`);
  const doc = rawSafe(JSON.stringify(Object.fromEntries(values.map(({ value }, i) => [`v${i}`, value]))));
  let next = 0;
  const typed = (column: string, ref: string) => {
    const t = byName.get(column)!.type;
    return t.project(t.cellType === 'STRING' ? ref : `CAST(${ref} AS ${t.cellType})`);
  };
  const sql = (s: RowScope): string => {
    if ('and' in s) return `(${s.and.map(sql).join(' AND ')})`;
    if ('or' in s) return `(${s.or.map(sql).join(' OR ')})`;
    if ('not' in s) return `(NOT ${sql(s.not)})`;
    const ref = `src.s.v${next++}`;
    const col = `t.${q(s.column)}`;
    if ('in' in s) return `array_contains(transform(${ref}, x -> ${typed(s.column, 'x')}), ${col})`;
    return `(${col} ${s.op} ${typed(s.column, ref)})`;
  };
  const where = sql(scope);
  const older = `(t._commit_lsn < ${at.commitLsn} OR (t._commit_lsn = ${at.commitLsn} AND t._tx_seq < ${at.seq}))`;
  const source = `SELECT from_json(doc, 'STRUCT<${fields.join(', ')}>', map('mode', 'FAILFAST')) AS s FROM VALUES (r'${doc}') AS j(doc)`;
  const action = p.deleteMode === 'hard'
    ? 'DELETE'
    : `UPDATE SET t._deleted = TRUE, t._op = 't', t._commit_lsn = ${at.commitLsn}, t._tx_seq = ${at.seq}, t._synced_at = current_timestamp()`;
  return `MERGE INTO ${p.target} t USING (${source}) src ON ${older}${p.deleteMode === 'soft' ? ' AND NOT t._deleted' : ''} AND ${where}
WHEN MATCHED THEN ${action}`;
}
