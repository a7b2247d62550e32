// Which errors mean "Postgres went away" (start over when it is back) and which a retry cannot fix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isConnectionLoss, isTlsFailure } from '../../../sources/postgres/connection-loss.ts';
import { TracelakeError } from '../../../schemas/src/errors.ts';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

test('a restart, a refused or reset socket and the ends node-postgres reports are connection losses', () => {
  for (const err of [
    withCode('terminating connection due to administrator command', '57P01'),
    withCode('the database system is shutting down', '57P03'),
    withCode('the database system is starting up', '57P03'),
    withCode('connection failure', '08006'),
    withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'),
    withCode('read ECONNRESET', 'ECONNRESET'),
    new Error('Connection terminated unexpectedly'),
    new Error('Client has encountered a connection error and is not queryable'),
    // wrapped, as the connector's start wraps its first connect
    new TracelakeError('cannot connect to Postgres: connect ECONNREFUSED', { code: 'PG_UNREACHABLE', remedy: 'x', cause: withCode('connect ECONNREFUSED', 'ECONNREFUSED') }),
  ]) assert.equal(isConnectionLoss(err), true, err.message);
});

test('a refused login, a missing object, a bad value or a non-error are not', () => {
  for (const err of [
    withCode('password authentication failed for user "x"', '28P01'),
    withCode('relation "t" does not exist', '42P01'),
    withCode('invalid input syntax for type integer', '22P02'),
    withCode('getaddrinfo ENOTFOUND db.example', 'ENOTFOUND'),
    new TracelakeError('table s.t has no primary key', { code: 'MISSING_PRIMARY_KEY', remedy: 'x' }),
    'Connection terminated',
    undefined,
  ]) assert.equal(isConnectionLoss(err), false, String(err));
});

test('a connection refused for its certificate is told apart from a wrong address or password', () => {
  assert.equal(isTlsFailure(new Error('self-signed certificate in certificate chain')), true);
  assert.equal(isTlsFailure(new Error('The server does not support SSL connections')), true);
  assert.equal(isTlsFailure(new Error('password authentication failed for user "x"')), false);
});
