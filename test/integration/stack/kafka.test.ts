// Smoke: the services' Kafka client (@platformatic/kafka) on the real broker — an idempotent producer, and a
// consumer group whose offsets are committed by hand after processing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Admin, compatibilityPartitioner, Consumer, MessagesStreamFallbackModes, MessagesStreamModes, Producer, ProduceAcks, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { testKafka } from '../../support/kafka.ts';
import { uniqueName } from '../../support/stack.ts';
import { committedOffsets } from '../../../runtime/kafka-offsets.ts';

test('idempotent producer → consumer group, offsets committed after processing', async (t) => {
  const topic = uniqueName('smoke.kafka');
  const groupId = uniqueName('smoke-group');
  const admin = new Admin(testKafka('tracelake-smoke'));
  t.after(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.close();
  });
  await admin.createTopics({ topics: [topic], partitions: 3 });

  const producer = new Producer({ ...testKafka('tracelake-smoke'), acks: ProduceAcks.ALL, idempotent: true, partitioner: compatibilityPartitioner, serializers: stringSerializers });
  const sent = Array.from({ length: 30 }, (_, i) => ({ topic, key: `k${i % 7}`, value: `v${i}` }));
  await producer.send({ messages: sent });
  await producer.close();

  const consumer = new Consumer({ ...testKafka('tracelake-smoke'), groupId, deserializers: stringDeserializers });
  t.after(() => consumer.close(true));
  const stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.COMMITTED, fallbackMode: MessagesStreamFallbackModes.EARLIEST, autocommit: false });
  const seen: string[] = [];
  for await (const m of stream) {
    seen.push(m.value);
    await consumer.commit({ offsets: [{ topic, partition: m.partition, offset: m.offset + 1n, leaderEpoch: -1 }] });
    if (seen.length >= sent.length) break;
  }
  await stream.close();
  assert.deepEqual([...seen].sort(), sent.map((m) => m.value).sort());
  // per key, order is kept (same key → same partition)
  for (const key of ['k0', 'k3']) {
    const expected = sent.filter((m) => m.key === key).map((m) => m.value);
    assert.deepEqual(seen.filter((v) => expected.includes(v)), expected);
  }
  const committed = [...(await committedOffsets(admin, groupId, [topic])).get(topic)?.values() ?? []].reduce((n, o) => n + Number(o), 0);
  assert.equal(committed, sent.length, 'committed offsets should cover every message');
});
