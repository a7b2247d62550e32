// Smoke: an idempotent kafkajs producer and a consumer group with manual offset commits on the real broker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testKafka } from '../../support/kafka.ts';
import { uniqueName } from '../../support/stack.ts';

test('idempotent producer → consumer group, offsets committed after processing', async (t) => {
  const topic = uniqueName('smoke.kafka');
  const groupId = uniqueName('smoke-group');
  const kafka = testKafka('tracelake-smoke');
  const admin = kafka.admin();
  await admin.connect();
  t.after(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });
  assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true }), true);

  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5 });
  await producer.connect();
  const sent = Array.from({ length: 30 }, (_, i) => ({ key: `k${i % 7}`, value: `v${i}` }));
  const acks = await producer.send({ topic, acks: -1, messages: sent });
  await producer.disconnect();
  assert.ok(acks.length > 0 && acks.every((a) => a.errorCode === 0));

  const consumer = kafka.consumer({ groupId });
  await consumer.connect();
  t.after(() => consumer.disconnect());
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen: string[] = [];
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
        for (const m of batch.messages) {
          seen.push(m.value?.toString() ?? '');
          resolveOffset(m.offset);
        }
        const last = batch.messages.at(-1);
        if (last) {
          await consumer.commitOffsets([{ topic, partition: batch.partition, offset: String(BigInt(last.offset) + 1n) }]);
        }
        await heartbeat();
        if (seen.length >= sent.length) resolve();
      },
    });
  });
  await done;
  assert.deepEqual([...seen].sort(), sent.map((m) => m.value).sort());
  // per key, order is kept (same key → same partition)
  for (const key of ['k0', 'k3']) {
    const expected = sent.filter((m) => m.key === key).map((m) => m.value);
    assert.deepEqual(seen.filter((v) => expected.includes(v)), expected);
  }
  await consumer.stop();
  const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
  const committed = offsets[0]!.partitions.reduce((n, p) => n + Number(p.offset), 0);
  assert.equal(committed, sent.length, 'committed offsets should cover every message');
});
