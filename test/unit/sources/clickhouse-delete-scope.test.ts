import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deleteScope } from '../../../sources/clickhouse/delete-scope.ts';
import { inScope } from '../../../schemas/src/row-scope.ts';

const columns = [
  { name: 'project_id', type: 'String' }, { name: 'trace_id', type: 'Nullable(String)' }, { name: 'id', type: 'String' },
  { name: 'timestamp', type: 'DateTime64(3)' }, { name: 'day', type: 'Date' }, { name: 'value', type: 'Float64' },
];

test('Langfuse\'s deletes as ClickHouse stores them become scopes with cell values', () => {
  assert.deepEqual(deleteScope("(project_id = 'p') AND (trace_id IN ('a', 'b\\'c'))", columns),
    { and: [{ column: 'project_id', op: '=', value: 'p' }, { column: 'trace_id', in: ['a', "b'c"] }] });
  assert.deepEqual(deleteScope("(project_id = 'p') AND (id IN _CAST(['a', 'b'], 'Array(String)')) AND (timestamp < _CAST('1793491200', 'DateTime64(3)'))", columns),
    { and: [{ column: 'project_id', op: '=', value: 'p' }, { column: 'id', in: ['a', 'b'] }, { column: 'timestamp', op: '<', value: '1793491200000000' }] });
  assert.deepEqual(deleteScope("(project_id = 'p') AND ((timestamp >= '2026-01-01') AND (timestamp <= '2026-12-31 23:59:59.5'))", columns),
    { and: [{ column: 'project_id', op: '=', value: 'p' }, { column: 'timestamp', op: '>=', value: String(Date.UTC(2026, 0, 1) * 1000) },
      { column: 'timestamp', op: '<=', value: String(Date.UTC(2026, 11, 31, 23, 59, 59) * 1000 + 500_000) }] });
  assert.deepEqual(deleteScope("(project_id = 'p' AND day < '2026-01-02') OR NOT (value >= -1.5)", columns),
    { or: [{ and: [{ column: 'project_id', op: '=', value: 'p' }, { column: 'day', op: '<', value: String(Date.UTC(2026, 0, 2) / 86_400_000) }] },
      { not: { column: 'value', op: '>=', value: '-1.5' } }] });
});

test('date-time texts: UTC ones (explicit, or the server\'s zone when it is UTC); others are not understood', () => {
  const utc = String(Date.UTC(2026, 10, 1, 12) * 1000);
  assert.deepEqual(deleteScope("timestamp < toDateTime64('2026-11-01 12:00:00.000000', 6, 'UTC')", columns), { column: 'timestamp', op: '<', value: utc });
  assert.equal(deleteScope("timestamp < toDateTime64('2026-11-01 12:00:00', 3, 'Europe/Berlin')", columns), null);
  assert.equal(deleteScope("timestamp < '2026-11-01 12:00:00'", columns, 'America/New_York'), null);
  assert.deepEqual(deleteScope("timestamp < _CAST('1793491200', 'DateTime64(3)')", columns, 'America/New_York'), { column: 'timestamp', op: '<', value: '1793491200000000' });
});

test('what is not understood gives null: functions, unknown columns, column-to-column comparisons', () => {
  assert.equal(deleteScope("lower(project_id) = 'p'", columns), null);
  assert.equal(deleteScope("nope = 'p'", columns), null);
  assert.equal(deleteScope('project_id = id', columns), null);
  assert.equal(deleteScope("project_id = 'p' AND", columns), null);
});

test('a scope decides rows as SQL does, NULL unknown', () => {
  const scope = deleteScope("(project_id = 'p') AND (trace_id IN ('a')) AND (timestamp < '2026-01-01')", columns)!;
  const row = (v: Record<string, unknown>) => (c: string) => v[c];
  const t = BigInt(Date.UTC(2025, 5, 1)) * 1000n;
  assert.equal(inScope(scope, row({ project_id: 'p', trace_id: 'a', timestamp: t })), true);
  assert.equal(inScope(scope, row({ project_id: 'p', trace_id: 'b', timestamp: t })), false);
  assert.equal(inScope(scope, row({ project_id: 'p', trace_id: null, timestamp: t })), null);
  assert.equal(inScope({ not: scope }, row({ project_id: 'p', trace_id: null, timestamp: t })), null);
  assert.equal(inScope(scope, row({ project_id: 'p', trace_id: 'a', timestamp: t * 2n })), false);
});
