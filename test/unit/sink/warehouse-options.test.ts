import { test } from 'node:test';
import assert from 'node:assert/strict';
import { warehouseOptions } from '../../../sink/src/warehouse/from-config.ts';
import { parseSinkConfig } from '../../../sink/src/config.ts';

const base = { kafka: { brokers: ['k:9092'] }, registry: { url: 'http://r:8081' } };

test('warehouse auth from the config: a token, or an OAuth service principal (never both)', () => {
  const pat = parseSinkConfig({ ...base, warehouse: { host: 'dbc-1.cloud.databricks.com', path: '/sql/1.0/warehouses/a', token: 'dapi-x' } });
  assert.deepEqual(warehouseOptions(pat.warehouse).auth, { token: 'dapi-x' });
  const sp = parseSinkConfig({ ...base, warehouse: { host: 'dbc-1.cloud.databricks.com', path: '/sql/1.0/warehouses/a', oauth: { clientId: 'sp-1', clientSecret: 's' } } });
  assert.deepEqual(warehouseOptions(sp.warehouse).auth, { clientId: 'sp-1', clientSecret: 's' });
  assert.equal(warehouseOptions(sp.warehouse).port, 443);
});
