import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChangeDispatcher } from '../../../connector/src/change-dispatcher.ts';
import type { KafkaPublisher } from '../../../connector/src/kafka/publisher.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a failed send takes the batches queued behind it along, and the dispatcher is idle again: heartbeats confirm after the reconnect', async (t) => {
  let calls = 0;
  const publisher = {
    async send() {
      calls++;
      await sleep(20);
      if (calls === 1) throw new Error('Kafka request failed: Connection error');
    },
  } as unknown as KafkaPublisher;
  const durable: bigint[] = [];
  const failures: Error[] = [];
  const d = new ChangeDispatcher(
    { topicPrefix: 'p', db: 'd', mapping: {} as never, tombstonesOnDelete: false, keyColumns: {}, maxBatchMessages: 100, maxBatchBytes: 1 << 20, lingerMs: 0 },
    () => ({}) as never, {} as never, publisher, async (lsn) => { durable.push(lsn); }, () => true, (err) => failures.push(err),
  );
  t.after(() => d.close());
  d.reset(10n);
  // two transactions, each sent at its commit: the second queues behind the first, which fails
  await d.onMessage(0n, { tag: 'begin', finalLsn: 100n, xid: 1, commitTimeUs: 0n } as never);
  await d.onMessage(100n, { tag: 'commit', endLsn: 100n, commitTimeUs: 0n } as never);
  await d.onMessage(0n, { tag: 'begin', finalLsn: 200n, xid: 2, commitTimeUs: 0n } as never);
  await d.onMessage(200n, { tag: 'commit', endLsn: 200n, commitTimeUs: 0n } as never);
  await sleep(100);
  assert.equal(calls, 1, 'the batch behind the failed one is not sent (it is read again after the reconnect)');
  assert.equal(failures.length, 1, 'the stream is ended once, for the first failure');
  assert.deepEqual(durable, [], 'nothing confirmed');
  assert.equal(d.idle, true, 'no send counted as in flight any more');
  // the stream reconnects from the confirmed position; an idle heartbeat message is confirmed
  d.reset(10n);
  await d.onMessage(300n, { tag: 'message', transactional: false } as never);
  assert.deepEqual(durable, [300n]);
});
