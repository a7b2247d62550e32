import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import {
  rewriteOpenSession, rewriteResultSetMetadata, HIVE_CLI_SERVICE_PROTOCOL_V10, COLUMN_BASED_SET,
} from '../../../scripts/stack/warehouse-gateway/rewrites.ts';
import { peekHeader, readSingleField, writeSingleField } from '../../../scripts/stack/warehouse-gateway/thrift-message.ts';

const require = createRequire(import.meta.url);
const types = require('@databricks/sql/thrift/TCLIService_types');

test('OpenSession from @databricks/sql (client_protocol left at -7) is asked as Hive V10', () => {
  const req = new types.TOpenSessionReq({ client_protocol_i64: 42 });
  assert.equal(req.client_protocol, -7);
  assert.equal(rewriteOpenSession(req), true);
  assert.equal(req.client_protocol, HIVE_CLI_SERVICE_PROTOCOL_V10);
});

test('OpenSession that already names a protocol is left alone', () => {
  const req = new types.TOpenSessionReq({ client_protocol: 5 });
  assert.equal(rewriteOpenSession(req), false);
  assert.equal(req.client_protocol, 5);
});

test('Spark metadata: missing result format is filled and 0-based positions become 1-based', () => {
  const resp = { resultFormat: null, schema: { columns: [{ position: 0 }, { position: 1 }, { position: 2 }] } };
  assert.equal(rewriteResultSetMetadata(resp), true);
  assert.equal(resp.resultFormat, COLUMN_BASED_SET);
  assert.deepEqual(resp.schema.columns.map((c) => c.position), [1, 2, 3]);
});

test('Databricks-shaped metadata (format set, 1-based positions) is not changed', () => {
  const resp = { resultFormat: 0, schema: { columns: [{ position: 1 }, { position: 2 }] } };
  assert.equal(rewriteResultSetMetadata(resp), false);
  assert.deepEqual(resp.schema.columns.map((c) => c.position), [1, 2]);
  assert.equal(resp.resultFormat, 0);
});

test('positions that are not exactly 0..n-1 are not shifted', () => {
  const resp = { resultFormat: 1, schema: { columns: [{ position: 0 }, { position: 2 }] } };
  assert.equal(rewriteResultSetMetadata(resp), false);
  assert.deepEqual(resp.schema.columns.map((c) => c.position), [0, 2]);
});

test('a rewritten OpenSession message decodes to the same request with the new protocol', () => {
  const req = new types.TOpenSessionReq({ configuration: { a: 'b' }, username: 'u' });
  const header = { name: 'OpenSession', type: 1, seqid: 7 };
  const buf = writeSingleField(header, 1, req);
  assert.deepEqual(peekHeader(buf), header);
  const back = new types.TOpenSessionReq();
  assert.equal(readSingleField(buf, 1, back), true);
  assert.equal(back.username, 'u');
  assert.deepEqual(back.configuration, { a: 'b' });
  rewriteOpenSession(back);
  const again = new types.TOpenSessionReq();
  readSingleField(writeSingleField(header, 1, back), 1, again);
  assert.equal(again.client_protocol, HIVE_CLI_SERVICE_PROTOCOL_V10);
});

test('a result without the expected field (an exception reply) is reported as not found', () => {
  const status = new types.TStatus({ statusCode: 0 });
  const buf = writeSingleField({ name: 'GetResultSetMetadata', type: 2, seqid: 1 }, 1, status);
  assert.equal(readSingleField(buf, 0, new types.TGetResultSetMetadataResp()), false);
});
