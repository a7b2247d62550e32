import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTable, createTombstones, type TableLayout } from '../../../sink/src/plan/ddl.ts';
import { deltaType } from '../../../sink/src/delta/column-types.ts';
import { parseSinkConfig } from '../../../sink/src/config.ts';

const columns = [
  { field: 'id', name: 'id', isKey: true, type: deltaType('long', 'id') },
  { field: 'body', name: 'body', isKey: false, type: deltaType('string', 'body') },
];
const layout = (properties: Record<string, string>, clusterBy: string[] = []): TableLayout =>
  ({ target: 's.t', tombstones: 's.t__tombstones', staged: 's.t__staged', clusterBy, properties });

test('mirror and tombstone tables are created with the configured Delta table properties', () => {
  const l = layout({ 'delta.enableDeletionVectors': 'true', 'delta.appendOnly': 'false' }, ['id']);
  assert.match(createTable(l, columns), /USING DELTA CLUSTER BY \(`id`\) TBLPROPERTIES \('delta\.enableDeletionVectors' = 'true', 'delta\.appendOnly' = 'false'\)$/);
  assert.match(createTombstones(l, columns), /USING DELTA TBLPROPERTIES \('delta\.enableDeletionVectors' = 'true', 'delta\.appendOnly' = 'false'\)$/);
  assert.match(createTable(layout({}), columns), /USING DELTA$/);
});

test('deletion vectors are on by default; a table can override or add properties', () => {
  const base = {
    kafka: { brokers: ['k:9092'] }, registry: { url: 'http://r:8081' },
    warehouse: { host: 'h', path: '/sql/1.0/warehouses/x', token: 't' },
  };
  assert.deepEqual(parseSinkConfig(base).tableProperties, { 'delta.enableDeletionVectors': 'true' });
  const c = parseSinkConfig({ ...base, tables: { 'public.spans': { tableProperties: { 'delta.enableDeletionVectors': 'false' } } } });
  assert.deepEqual(c.tables['public.spans']?.tableProperties, { 'delta.enableDeletionVectors': 'false' });
});
