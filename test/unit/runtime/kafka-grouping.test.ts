import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { linearGrouping } from '../../../runtime/kafka-grouping.ts';
import '../../../runtime/kafka.ts';

const require = createRequire(import.meta.url);

test("kafkajs groups a send's messages by partition in one pass, as its own grouping would", () => {
  assert.equal(linearGrouping, true);
  const used = require('kafkajs/src/producer/groupMessagesPerPartition.js') as (a: object) => Record<number, object[]>;
  assert.doesNotMatch(used.toString(), /\.\.\.current/, 'the module exports the one-pass version');
  const messages = Array.from({ length: 1000 }, (_, i) => ({ value: i }));
  const grouped = used({ topic: 't', partitionMetadata: [{}, {}, {}, {}], messages, partitioner: ({ message }: { message: { value: number } }) => (message.value * 13) % 4 });
  assert.deepEqual(Object.keys(grouped), ['0', '1', '2', '3']);
  for (const [p, list] of Object.entries(grouped)) {
    assert.deepEqual(list, messages.filter((m) => (m.value * 13) % 4 === Number(p)), 'each partition keeps its messages in send order');
  }
  assert.deepEqual(used({ topic: 't', partitionMetadata: [], messages, partitioner: () => 0 }), {});
});
