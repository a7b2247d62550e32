import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthenticationError, MultipleErrors, NetworkError, ProtocolError, ResponseError } from '@platformatic/kafka';
import { kafkaError, kafkaUnreachable, lostGeneration } from '../../../runtime/kafka-errors.ts';

test('a commit refused because the group moved on is recognised (the batch is replayed, not a failure)', () => {
  assert.equal(lostGeneration(new ProtocolError('ILLEGAL_GENERATION')), true);
  assert.equal(lostGeneration(new MultipleErrors('Commit failed.', [new ProtocolError('REBALANCE_IN_PROGRESS')])), true);
  assert.equal(lostGeneration(new ProtocolError('UNKNOWN_MEMBER_ID')), true);
  assert.equal(lostGeneration(new ProtocolError('TOPIC_AUTHORIZATION_FAILED')), false);
});

test('a consumer crash because no broker answers is told apart from other crashes', () => {
  assert.equal(kafkaUnreachable(new NetworkError('Connection to 127.0.0.1:19092 failed.')), true);
  assert.equal(kafkaUnreachable(Object.assign(new Error('x'), { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:19092'), { code: 'ECONNREFUSED' }) })), true);
  assert.equal(kafkaUnreachable(new ProtocolError('GROUP_AUTHORIZATION_FAILED')), false);
});

test('client failures become typed errors: credentials, TLS and size are not retried, the rest is KAFKA_UNAVAILABLE', () => {
  assert.equal(kafkaError(new AuthenticationError('SASL authentication failed.')).code, 'KAFKA_AUTH');
  assert.equal(kafkaError(new NetworkError('Connection failed.', { cause: new Error('self signed certificate in certificate chain') })).code, 'KAFKA_TLS');
  const large = kafkaError(new ProtocolError('MESSAGE_TOO_LARGE'));
  assert.deepEqual([large.code, large.retriable], ['KAFKA_MESSAGE_TOO_LARGE', false]);
  const down = kafkaError(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:19092'), 'state topic read');
  assert.deepEqual([down.code, down.retriable, down.message], ['KAFKA_UNAVAILABLE', true, 'state topic read failed: Connection error: connect ECONNREFUSED 127.0.0.1:19092']);
});

test('@platformatic/kafka failures are classified too, also when wrapped in its MultipleErrors', () => {
  const tooLarge = new MultipleErrors('Producing messages failed.', [new ResponseError(0, 9, { '/topics/0/partitions/0': [10, null] }, {})]);
  assert.equal(kafkaError(tooLarge).code, 'KAFKA_MESSAGE_TOO_LARGE');
  assert.equal(kafkaError(new ProtocolError('MESSAGE_TOO_LARGE')).code, 'KAFKA_MESSAGE_TOO_LARGE');
  const gone = new MultipleErrors('Cannot connect to any broker.', [new NetworkError('Connection to 127.0.0.1:19092 failed.', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:19092'), { code: 'ECONNREFUSED' }) })]);
  assert.equal(kafkaUnreachable(gone), true);
  assert.deepEqual([kafkaError(gone).code, kafkaError(gone).retriable], ['KAFKA_UNAVAILABLE', true]);
  assert.match(kafkaError(gone).message, /ECONNREFUSED/, 'the wrapped cause is in the message');
  assert.equal(lostGeneration(new ProtocolError('ILLEGAL_GENERATION')), true);
  assert.equal(lostGeneration(new ProtocolError('TOPIC_AUTHORIZATION_FAILED')), false);
  assert.equal(kafkaUnreachable(new ProtocolError('TOPIC_AUTHORIZATION_FAILED')), false);
  // a broker just restarted: its group coordinator is still loading (the join is retried later, not a failure)
  assert.equal(kafkaUnreachable(new MultipleErrors('joinGroup failed 4 times.', [new ProtocolError('COORDINATOR_LOAD_IN_PROGRESS')])), true);
  assert.equal(kafkaUnreachable(new ProtocolError('NOT_COORDINATOR')), true);
});
