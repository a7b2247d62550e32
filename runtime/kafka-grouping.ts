// kafkajs groups the messages of a send by partition with `[...current, message]` for every message: each
// message copies its partition's list so far, so a send of n messages costs O(n²) copies and garbage (8% of
// the connector's main thread in a profile of a 5,000-message batch stream, docs/benchmarks.md). kafkajs has
// no hook for it; as with its CRC-32C (kafka-crc32c.ts), its CommonJS module gets a linear version as its
// exports before kafkajs' producer requires it — when both group sample messages alike (kafkajs-swap.ts).
// Import this before anything that loads kafkajs.
import { swapKafkajsModule } from './kafkajs-swap.ts';

interface GroupArgs {
  topic: string;
  partitionMetadata: unknown[];
  messages: unknown[];
  partitioner: (args: { topic: string; partitionMetadata: unknown[]; message: unknown }) => number;
}
type Grouping = (args: GroupArgs) => Record<number, unknown[]>;

/** The same grouping in one pass: each partition's list grows in place. */
const linear: Grouping = ({ topic, partitionMetadata, messages, partitioner }) => {
  const result: Record<number, unknown[]> = {};
  if (partitionMetadata.length === 0) return result;
  for (const message of messages) (result[partitioner({ topic, partitionMetadata, message })] ??= []).push(message);
  return result;
};

const messages = Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: i }));
const partitioner = ({ message }: { message: unknown }) => ((message as { value: number }).value * 7) % 3;
const sample = (g: Grouping, meta: unknown[]) => JSON.stringify(g({ topic: 't', partitionMetadata: meta, messages, partitioner }));

/** true when kafkajs groups the messages of a send in one pass */
export const linearGrouping: boolean = swapKafkajsModule<Grouping>(
  'kafkajs/src/producer/groupMessagesPerPartition.js',
  () => linear,
  (own, ours) => sample(own, [{}, {}, {}]) === sample(ours, [{}, {}, {}]) && sample(own, []) === sample(ours, []),
);
