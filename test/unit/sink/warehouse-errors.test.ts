import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCreateRace, isTableMissing, isTransient } from '../../../sink/src/warehouse/warehouse-errors.ts';
import { TracelakeError } from '../../../schemas/src/errors.ts';

test('network trouble and 5xx are transient; statements the warehouse refused are not, whatever their text', () => {
  assert.equal(isTransient(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:10443'), { code: 'ECONNREFUSED' })), true);
  assert.equal(isTransient(new Error('Request failed with status code 503')), true);
  const refused = Object.assign(new Error("The operation failed due to an error: CHECK constraint violated by v = 500 (warehouse unavailable?)"), { name: 'WarehouseStatementError' });
  assert.equal(isTransient(refused), false);
  assert.equal(isTransient(new TracelakeError('x', { code: 'X', remedy: 'r', retriable: true })), true);
  assert.equal(isTransient(new TracelakeError('x', { code: 'X', remedy: 'r' })), false);
});

test("Delta's concurrent-commit conflicts are retried (the MERGE is idempotent)", () => {
  const conflict = Object.assign(new Error('The operation failed due to an error: org.apache.hive.service.cli.HiveSQLException: Error running query: [DELTA_CONCURRENT_APPEND] io.delta.exceptions.ConcurrentAppendException: Files were added to the root of the table by a concurrent update.'), { name: 'WarehouseStatementError' });
  assert.equal(isTransient(conflict), true);
  // a second sink creating the same table (with clustering) at the same moment: found by a short chaos run
  const protocol = Object.assign(new Error('The operation failed due to an error: org.apache.hive.service.cli.HiveSQLException: Error running query: [DELTA_PROTOCOL_CHANGED] io.delta.exceptions.ProtocolChangedException: [DELTA_PROTOCOL_CHANGED] The protocol version of the Delta table has been changed by a concurrent update.'), { name: 'WarehouseStatementError' });
  assert.equal(isTransient(protocol), true);
  const metadata = Object.assign(new Error('Error running query: [DELTA_METADATA_CHANGED] io.delta.exceptions.MetadataChangedException: The metadata of the Delta table has been changed by a concurrent update.'), { name: 'WarehouseStatementError' });
  assert.equal(isTransient(metadata), true);
  // a refused statement is still not retried, nor a JVM concurrency bug that merely shares the word
  assert.equal(isTransient(Object.assign(new Error('Error running query: java.util.ConcurrentModificationException'), { name: 'WarehouseStatementError' })), false);
  assert.equal(isTransient(Object.assign(new Error('[DELTA_MERGE_INCOMPATIBLE_DATATYPE] Failed to merge incompatible data types'), { name: 'WarehouseStatementError' })), false);
});

test('a statement on a table that is gone is told apart (the sink creates it again once)', () => {
  assert.equal(isTableMissing(new Error('[TABLE_OR_VIEW_NOT_FOUND] The table or view `tl`.`spans` cannot be found.')), true);
  assert.equal(isTableMissing(new Error('[DELTA_TABLE_NOT_FOUND] Delta table `tl`.`spans` doesn\'t exist.')), true);
  assert.equal(isTableMissing(new Error('[PARSE_SYNTAX_ERROR] Syntax error at or near')), false);
});

test('a table another writer created at the same moment is told apart (the CREATE is retried and finds it)', () => {
  assert.equal(isCreateRace(new Error('[DELTA_CREATE_TABLE_WITH_NON_EMPTY_LOCATION] Cannot create table')), true);
  assert.equal(isCreateRace(new Error('[TABLE_OR_VIEW_ALREADY_EXISTS] Cannot create table or view')), true);
  assert.equal(isCreateRace(new Error('[PARSE_SYNTAX_ERROR] Syntax error')), false);
});
