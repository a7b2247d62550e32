// Offsets as the services report them (sink lag, GET/PATCH /offsets, the connector's state topic): where each
// partition of a topic begins and ends, and what a consumer group committed — on @platformatic/kafka's admin client.
import { ListOffsetTimestamps, type Admin } from '@platformatic/kafka';

export interface PartitionRange {
  partition: number;
  /** the first offset still in the log */
  low: bigint;
  /** the offset the next record gets */
  high: bigint;
}

/** Per topic: every partition's first and next offset. */
export async function topicRanges(admin: Admin, topics: string[]): Promise<Map<string, PartitionRange[]>> {
  const out = new Map<string, PartitionRange[]>();
  if (topics.length === 0) return out;
  const meta = await admin.metadata({ topics });
  const request = (timestamp: bigint) => topics.map((name) => ({
    name, partitions: Array.from({ length: meta.topics.get(name)?.partitionsCount ?? 0 }, (_, partitionIndex) => ({ partitionIndex, timestamp })),
  }));
  const [lows, highs] = await Promise.all([admin.listOffsets({ topics: request(ListOffsetTimestamps.EARLIEST) }), admin.listOffsets({ topics: request(ListOffsetTimestamps.LATEST) })]);
  for (const t of highs) {
    const low = lows.find((l) => l.name === t.name);
    out.set(t.name, t.partitions.map((p) => ({
      partition: p.partitionIndex, high: p.offset, low: low?.partitions.find((l) => l.partitionIndex === p.partitionIndex)?.offset ?? 0n,
    })).sort((a, b) => a.partition - b.partition));
  }
  return out;
}

/** Per topic and partition: the group's committed offset (absent where it committed none). */
export async function committedOffsets(admin: Admin, groupId: string, topics: string[]): Promise<Map<string, Map<number, bigint>>> {
  const out = new Map<string, Map<number, bigint>>();
  if (topics.length === 0) return out;
  const [group] = await admin.listConsumerGroupOffsets({ groups: [groupId] });
  for (const t of group?.topics ?? []) {
    if (!topics.includes(t.name)) continue;
    const partitions = new Map<number, bigint>();
    for (const p of t.partitions) if (p.committedOffset >= 0n) partitions.set(p.partitionIndex, p.committedOffset);
    out.set(t.name, partitions);
  }
  return out;
}

/** Per topic: records after the group's committed offsets (from the start where none is committed). */
export async function groupLag(admin: Admin, groupId: string, topics: string[]): Promise<Map<string, number>> {
  const [ranges, committed] = await Promise.all([topicRanges(admin, topics), committedOffsets(admin, groupId, topics)]);
  const out = new Map<string, number>();
  for (const [topic, partitions] of ranges) {
    let lag = 0n;
    for (const p of partitions) lag += p.high - (committed.get(topic)?.get(p.partition) ?? p.low);
    out.set(topic, Number(lag));
  }
  return out;
}
