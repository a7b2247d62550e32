import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTransient } from '../../../sink/src/sink.ts';
import { TracelakeError } from '../../../schemas/src/errors.ts';

test('network trouble and 5xx are transient; statements the warehouse refused are not, whatever their text', () => {
  assert.equal(isTransient(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:10443'), { code: 'ECONNREFUSED' })), true);
  assert.equal(isTransient(new Error('Request failed with status code 503')), true);
  const refused = Object.assign(new Error("The operation failed due to an error: CHECK constraint violated by v = 500 (warehouse unavailable?)"), { name: 'WarehouseStatementError' });
  assert.equal(isTransient(refused), false);
  assert.equal(isTransient(new TracelakeError('x', { code: 'X', remedy: 'r', retriable: true })), true);
  assert.equal(isTransient(new TracelakeError('x', { code: 'X', remedy: 'r' })), false);
});
