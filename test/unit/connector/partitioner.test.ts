import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Partitioners } from 'kafkajs';
import { keyHashPartitioner, murmur2 } from '../../../emitter/kafka/partitioner.ts';

const require = createRequire(import.meta.url);
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (key: Buffer) => number;

const keys = Array.from({ length: 2000 }, (_, i) => Buffer.from(Array.from({ length: i % 67 }, (_, j) => (i * 7919 + j * 104729) & 0xff)));
const meta = (n: number) => Array.from({ length: n }, (_, partitionId) => ({ partitionId, leader: 1, replicas: [1], isr: [1], partitionErrorCode: 0 }));

test("murmur2 is kafkajs' (and the Java client's) hash, on keys of every length mod 4", () => {
  // Kafka's own test vectors (org.apache.kafka.common.utils.UtilsTest#testMurmur2)
  const vectors: Array<[string, number]> = [['21', -973932308], ['foobar', -790332482], ['a-little-bit-long-string', -985981536], ['a-little-bit-longer-string', -1486304829], ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971], ['abc', 479470107]];
  for (const [s, h] of vectors) assert.equal(murmur2(Buffer.from(s)), h, s);
  for (const k of keys) assert.equal(murmur2(k), kafkajsMurmur2(k));
});

test("keyed messages land on kafkajs' default partition; explicit partitions are kept; keyless ones spread", () => {
  const ours = keyHashPartitioner();
  const theirs = Partitioners.DefaultPartitioner();
  for (const n of [1, 3, 12]) {
    for (const key of keys) {
      const args = { topic: 't', partitionMetadata: meta(n), message: { key, value: null } };
      assert.equal(ours(args), theirs(args));
    }
  }
  assert.equal(ours({ topic: 't', partitionMetadata: meta(3), message: { key: 'x', value: null, partition: 2 } }), 2);
  const keyless = new Set(Array.from({ length: 6 }, () => ours({ topic: 't', partitionMetadata: meta(3), message: { value: null } })));
  assert.deepEqual([...keyless].sort(), [0, 1, 2]);
});
