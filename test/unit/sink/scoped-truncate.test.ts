import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planScopedTruncate } from '../../../sink/src/plan/scoped-truncate.ts';
import { deltaType } from '../../../sink/src/delta/column-types.ts';
import type { TablePlanInput } from '../../../sink/src/plan/merge-plan.ts';

const plan = (deleteMode: 'hard' | 'soft'): TablePlanInput => ({
  target: '`s`.`events`', tombstones: '`s`.`events__tombstones`', staged: '`s`.`events__staged`', deleteMode,
  maxStatementBytes: 1 << 20, maxStatementRows: 1000,
  columns: [
    { field: 'trace_id', name: 'trace_id', type: deltaType('string', 'trace_id'), isKey: false },
    { field: 'start_time', name: 'start_time', type: deltaType({ type: 'long', logicalType: 'timestamp-micros' } as never, 'start_time'), isKey: true },
  ],
});

test('a scoped truncate is a MERGE over one parsed row of values: no value in the statement text, typed comparisons, older rows only', () => {
  const sql = planScopedTruncate(plan('soft'), { commitLsn: 100n, seq: 7n }, {
    and: [{ column: 'trace_id', in: ["a'b", '${x}'] }, { column: 'start_time', op: '<', value: '1700000000000000' }],
  });
  assert.ok(!sql.includes('${x}') && !sql.includes("a'b"), 'values only inside the rawSafe JSON document');
  assert.match(sql, /array_contains\(transform\(src\.s\.v0, x -> x\), t\.`trace_id`\)/);
  assert.match(sql, /\(t\.`start_time` < timestamp_micros\(CAST\(src\.s\.v1 AS BIGINT\)\)\)/);
  assert.match(sql, /t\._commit_lsn < 100 OR \(t\._commit_lsn = 100 AND t\._tx_seq < 7\)/);
  assert.match(sql, /AND NOT t\._deleted/);
  assert.match(sql, /WHEN MATCHED THEN UPDATE SET t\._deleted = TRUE, t\._op = 't', t\._commit_lsn = 100, t\._tx_seq = 7/);
  assert.match(planScopedTruncate(plan('hard'), { commitLsn: 1n, seq: 0n }, { column: 'trace_id', op: '=', value: 'a' }), /WHEN MATCHED THEN DELETE$/);
  assert.throws(() => planScopedTruncate(plan('hard'), { commitLsn: 1n, seq: 0n }, { column: 'nope', op: '=', value: 'a' }), /does not have/);
});
