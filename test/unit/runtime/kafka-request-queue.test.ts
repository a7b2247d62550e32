import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { quietRequestQueues } from '../../../runtime/kafka-request-queue.ts';
import '../../../runtime/kafka.ts';
import { sleep } from '../../support/wait.ts';

const require = createRequire(import.meta.url);

test('a kafkajs connection queue with nothing pending arms no check; a queued request is still sent when the one in flight is answered', async () => {
  assert.equal(quietRequestQueues, true);
  const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as new (o: object) => {
    push(r: object): void; fulfillRequest(r: object): void; destroy(): void;
    pending: unknown[]; throttleCheckTimeoutId: unknown;
  };
  const logger = { debug() {}, info() {}, warn() {}, error() {} };
  const q = new RequestQueue({ clientId: 't', broker: 'b', requestTimeout: 30_000, enforceRequestTimeout: false, maxInFlightRequests: 1, logger });
  const sent: number[] = [];
  const answered: number[] = [];
  const request = (correlationId: number) => ({
    entry: { correlationId, resolve: () => answered.push(correlationId), reject: (e: Error) => { throw e; } },
    expectResponse: true,
    sendRequest: () => sent.push(correlationId),
  });
  try {
    q.push(request(1));
    q.push(request(2)); // one in flight at most: queued, and a check is armed for it
    assert.deepEqual(sent, [1]);
    assert.equal(q.pending.length, 1);
    q.fulfillRequest({ correlationId: 1, payload: Buffer.alloc(0), size: 0 });
    assert.deepEqual(sent, [1, 2], 'the answer to the first sends the queued one');
    q.fulfillRequest({ correlationId: 2, payload: Buffer.alloc(0), size: 0 });
    // the check armed for the queued request runs; kafkajs' own then re-arms one, due in -1 − now ms (Node: 1 ms),
    // and again after each: a loop for as long as the connection lives
    await sleep(50);
    assert.equal(q.throttleCheckTimeoutId, null, 'nothing pending: no check armed');
    assert.deepEqual(answered, [1, 2], 'both answers reached their callers');
  } finally {
    q.destroy();
  }
});
