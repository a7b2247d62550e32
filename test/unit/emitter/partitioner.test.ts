import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compatibilityPartitioner } from '@platformatic/kafka';

// The emitter partitions with @platformatic/kafka's compatibilityPartitioner: the Java client's default for keyed
// messages (murmur2 of the key bytes, made positive; the client takes it modulo the partition count), so tracelake's
// topics are partitioned as Debezium's (the Java producer) would partition them.
test("keyed messages get the Java client's partition: Kafka's own murmur2 test vectors", () => {
  // org.apache.kafka.common.utils.UtilsTest#testMurmur2
  const vectors: Array<[string, number]> = [['21', -973932308], ['foobar', -790332482], ['a-little-bit-long-string', -985981536], ['a-little-bit-longer-string', -1486304829], ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971], ['abc', 479470107]];
  for (const [s, hash] of vectors) {
    const key = Buffer.from(s);
    const chosen = compatibilityPartitioner({ topic: 't', key, value: null as never }, key);
    for (const n of [1, 3, 12]) assert.equal(chosen % n, (hash & 0x7fffffff) % n, `${s} over ${n} partitions`);
  }
});
