import { test } from 'node:test';
import assert from 'node:assert/strict';
import { baseType, mapClickHouseColumn, typeArgs } from '../../../sources/clickhouse/clickhouse-types.ts';
import { tableIdentity, UnsupportedEngineError } from '../../../sources/clickhouse/table-identity.ts';
import { capturedTable } from '../../../sources/clickhouse/captured-table.ts';
import { langfuseCapture } from '../../../sources/clickhouse/langfuse-generation.ts';
import { defaultMappingOptions } from '../../../schemas/src/pg-types.ts';

test('type strings: arguments split at top-level commas only; Nullable and LowCardinality unwrapped', () => {
  assert.deepEqual(typeArgs("Map(LowCardinality(String), Decimal(18, 12))"), ['LowCardinality(String)', 'Decimal(18, 12)']);
  assert.deepEqual(typeArgs("Enum8('a,b' = 1, 'c' = 2)"), ["'a,b' = 1", "'c' = 2"]);
  assert.deepEqual(baseType('Nullable(LowCardinality(String))'), { base: 'String', nullable: true });
});

test('values arrive as ClickHouse text and convert exactly', () => {
  const m = (type: string) => mapClickHouseColumn(type, defaultMappingOptions, 't', 'c');
  assert.equal(m('UInt64').convert('9223372036854775807'), 9223372036854775807n);
  assert.throws(() => m('UInt64').convert('18446744073709551615'), /does not fit/);
  assert.equal(m("DateTime64(6, 'UTC')").convert('1764590400123456'), 1764590400123456n);
  assert.equal(m('DateTime').convert('1764590400'), 1764590400000000n);
  assert.equal(m('Bool').convert('true'), true);
  assert.equal(m('Float64').convert('-inf'), -Infinity);
  assert.deepEqual(m('Array(LowCardinality(String))').convert('["a","b\\"c"]'), ['a', 'b"c']);
  assert.equal(m('Map(String, UInt64)').convert('{"input":"12"}'), '{"input":"12"}');
  assert.equal(m('Nullable(String)').select('`x`'), '`x`');
  assert.equal(m('Nullable(DateTime64(3))').select('`x`'), 'toString(toUnixTimestamp64Micro(`x`))');
  assert.throws(() => m('AggregateFunction(sum, UInt64)'), /cannot map/);
  assert.equal(mapClickHouseColumn('AggregateFunction(sum, UInt64)', { ...defaultMappingOptions, unknownTypes: 'string' }, 't', 'c').avro, 'string');
});

test('identity from the engine and sorting key: version, is_deleted, plain key columns, expressions as derived keys', () => {
  const id = tableIdentity('d.events_full', 'ReplacingMergeTree', 'ReplacingMergeTree(event_ts, is_deleted) PARTITION BY toYYYYMM(start_time) ORDER BY (…)',
    'project_id, toStartOfMinute(start_time), xxHash32(trace_id), span_id, start_time');
  assert.deepEqual(id, { keyColumns: ['project_id', 'span_id', 'start_time'], derivedKeys: ['toStartOfMinute(start_time)', 'xxHash32(trace_id)'], versionColumn: 'event_ts', deletedColumn: 'is_deleted', blockNumbers: false });
  assert.equal(tableIdentity('d.e', 'ReplacingMergeTree', 'ReplacingMergeTree(event_ts, is_deleted) ORDER BY id SETTINGS index_granularity = 8192, enable_block_number_column = 1', 'id').blockNumbers, true);
  const replicated = tableIdentity('d.t', 'ReplicatedReplacingMergeTree', "ReplicatedReplacingMergeTree('/clickhouse/{shard}/t', '{replica}', event_ts, is_deleted) ORDER BY id", 'id');
  assert.equal(replicated.versionColumn, 'event_ts');
  assert.throws(() => tableIdentity('d.log', 'MergeTree', 'MergeTree ORDER BY id', 'id'), UnsupportedEngineError);
});

test('a captured table selects every column as text, the derived keys, then version, is_deleted, part and offset', () => {
  const identity = tableIdentity('d.traces', 'ReplacingMergeTree', 'ReplacingMergeTree(event_ts, is_deleted)', 'project_id, toDate(timestamp), id');
  const t = capturedTable('d', 'traces', [
    { name: 'id', type: 'String' }, { name: 'project_id', type: 'String' }, { name: 'timestamp', type: 'DateTime64(3)' },
    { name: 'event_ts', type: 'DateTime64(3)' }, { name: 'is_deleted', type: 'UInt8' },
  ], identity, defaultMappingOptions);
  assert.deepEqual(t.source.keyColumns, ['project_id', 'id', '_key_toDate_timestamp']);
  assert.equal(t.selectList, '`id`, `project_id`, toString(toUnixTimestamp64Micro(`timestamp`)), toString(toUnixTimestamp64Micro(`event_ts`)), toString(`is_deleted`), '
    + 'toString(toDate(timestamp)), toString(toUnixTimestamp64Micro(`event_ts`)), toString(`is_deleted`), _part, toString(_part_offset)');
  assert.equal(t.timeVersion, true);
});

test('the Langfuse generation from the tables present and their activity', () => {
  const day = 24 * 3600_000, now = 100 * day;
  const at = (entries: Record<string, [number, number]>) => new Map(Object.entries(entries).map(([k, [rows, lastWriteMs]]) => [k, { rows, lastWriteMs }]));
  assert.deepEqual(langfuseCapture(at({ traces: [5, now], observations: [9, now], scores: [1, now], project_environments: [0, 0] }), now)?.tables, ['traces', 'observations', 'scores']);
  const v4 = langfuseCapture(at({ traces: [5, now - 30 * day], observations: [9, now - 30 * day], scores: [1, now], events_full: [9, now], events_core: [9, now] }), now)!;
  assert.deepEqual([v4.generation, v4.tables], ['v4', ['events_full', 'scores']]);
  const dual = langfuseCapture(at({ traces: [5, now], observations: [9, now - 1000], scores: [1, now], events_full: [9, now] }), now)!;
  assert.equal(dual.generation, 'v4-dual');
  assert.equal(langfuseCapture(at({ other: [1, now] }), now), null);
});
