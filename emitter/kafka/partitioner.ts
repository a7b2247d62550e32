// Which partition a change event goes to: the Java client's default for keyed messages — murmur2 of the key
// bytes, made positive, modulo the partition count — so our topics are partitioned as Debezium's (the Java
// producer) would partition them. kafkajs' own default partitioner computes the same hash with a 64-bit Long
// emulation and filters the partition list for every message (8% of the connector's main thread in a profile,
// docs/benchmarks.md); this one is 32-bit arithmetic (Math.imul), and a unit test holds it to kafkajs' results.
// Messages without a key (truncate events) go round-robin over the partitions that have a leader, as in kafkajs.
import type { ICustomPartitioner, PartitionerArgs } from 'kafkajs';

/** Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2) of `data`, as a signed 32-bit int. */
export function murmur2(data: Uint8Array): number {
  const m = 0x5bd1e995;
  const length = data.length;
  let h = 0x9747b28c ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    h = Math.imul(h, m) ^ Math.imul(k, m);
  }
  const rest = length & 3; // the last 1–3 bytes
  if (rest === 3) h ^= data[whole + 2]! << 16;
  if (rest >= 2) h ^= data[whole + 1]! << 8;
  if (rest >= 1) h = Math.imul(h ^ data[whole]!, m);
  h ^= h >>> 13;
  h = Math.imul(h, m);
  return h ^ (h >>> 15);
}

export const keyHashPartitioner: ICustomPartitioner = () => {
  let next = Math.floor(Math.random() * 0x7fffffff);
  return ({ partitionMetadata, message }: PartitionerArgs) => {
    if (message.partition !== null && message.partition !== undefined) return message.partition;
    const key = message.key;
    if (key !== null && key !== undefined) {
      return (murmur2(typeof key === 'string' ? Buffer.from(key) : key) & 0x7fffffff) % partitionMetadata.length;
    }
    const available = partitionMetadata.filter((p) => p.leader >= 0);
    const from = available.length > 0 ? available : partitionMetadata;
    return from[(next++ & 0x7fffffff) % from.length]!.partitionId;
  };
};
