import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClickHouseError } from '@clickhouse/client';
import { describeStartFailure, isClickHouseLoss } from '../../../sources/clickhouse/clickhouse-errors.ts';

const netErr = (code: string) => Object.assign(new Error(`connect ${code}`), { code });

test('a server that went away (network errors, the client\'s timeout, a server shutting down) is a loss; SQL and auth errors are not', () => {
  assert.equal(isClickHouseLoss(netErr('ECONNREFUSED')), true);
  assert.equal(isClickHouseLoss(netErr('ECONNRESET')), true);
  assert.equal(isClickHouseLoss(new Error('Timeout error.')), true);
  assert.equal(isClickHouseLoss(new ClickHouseError({ message: 'shutting down', code: '394', type: 'QUERY_WAS_CANCELLED' })), true);
  assert.equal(isClickHouseLoss(new ClickHouseError({ message: 'x', code: '60', type: 'UNKNOWN_TABLE' })), false);
  assert.equal(isClickHouseLoss(new ClickHouseError({ message: 'x', code: '516', type: 'AUTHENTICATION_FAILED' })), false);
});

test('failures at start get a code and remedy; an unreachable server stays recognisable as a loss through its cause', () => {
  const auth = describeStartFailure(new ClickHouseError({ message: 'bad password', code: '516', type: 'AUTHENTICATION_FAILED' }), 'http://ch:8123', 'reader', false) as { code: string; remedy: string };
  assert.equal(auth.code, 'CLICKHOUSE_AUTH_FAILED');
  assert.match(auth.remedy, /clickhouse\.password/);
  const down = describeStartFailure(netErr('ECONNREFUSED'), 'http://ch:8123', 'reader', false) as { code: string };
  assert.equal(down.code, 'CLICKHOUSE_UNREACHABLE');
  assert.equal(isClickHouseLoss(down), true, 'a new run that cannot reach the server yet is retried');
  const tls = describeStartFailure(netErr('DEPTH_ZERO_SELF_SIGNED_CERT'), 'https://ch:8443', 'reader', true) as { code: string };
  assert.equal(tls.code, 'CLICKHOUSE_TLS');
});
