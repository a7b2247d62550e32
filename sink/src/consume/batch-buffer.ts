// The micro-batch being collected: the consumed records (decoded events, or null for a record with nothing to
// merge) in the order they came, and the size that decides when to merge. The offsets to commit and the events
// per table are read off the records; a batch's oldest records can go first as a batch of their own (head).
import type { TableEvent } from '../decode/table-event.ts';

interface CollectedRecord {
  topic: string;
  partition: number;
  offset: string;
  event: TableEvent | null;
  bytes: number;
}

export class BatchBuffer {
  /** the consumer generation it was read in (see Sink): a batch of an earlier one commits nothing */
  readonly epoch: number;
  private records: CollectedRecord[] = [];
  bytes = 0;
  firstAt: number | null = null;

  constructor(epoch = 0) {
    this.epoch = epoch;
  }

  add(topic: string, partition: number, offset: string, event: TableEvent | null, bytes: number): void {
    this.records.push({ topic, partition, offset, event, bytes });
    this.bytes += bytes;
    this.firstAt ??= Date.now();
  }

  get rows(): number {
    return this.records.length;
  }

  get empty(): boolean {
    return this.records.length === 0;
  }

  /** events to merge (records that decoded to nothing merge nothing but are committed) */
  get eventCount(): number {
    let n = 0;
    for (const r of this.records) if (r.event) n++;
    return n;
  }

  /**
   * When this batch holds more than `maxBytes`: its oldest records up to `maxBytes` (at least one) as a batch of
   * their own, to merge and commit first (dropHead then takes them off this one). Otherwise null.
   */
  head(maxBytes: number): BatchBuffer | null {
    if (this.bytes <= maxBytes || this.records.length < 2) return null;
    const head = new BatchBuffer(this.epoch);
    head.firstAt = this.firstAt;
    for (const r of this.records) {
      if (head.rows > 0 && head.bytes + r.bytes > maxBytes) break;
      head.records.push(r);
      head.bytes += r.bytes;
    }
    return head;
  }

  /** Takes the records of `head` (from head()) off this batch, which keeps the rest and its firstAt. */
  dropHead(head: BatchBuffer): void {
    this.records = this.records.slice(head.rows);
    this.bytes -= head.bytes;
  }

  /** Offsets to commit once this batch is in Delta: the next offset of each partition. */
  commits(): Array<{ topic: string; partition: number; offset: string }> {
    const last = new Map<string, { topic: string; partition: number; offset: string }>();
    for (const r of this.records) last.set(`${r.topic}\u0000${r.partition}`, { topic: r.topic, partition: r.partition, offset: r.offset });
    return [...last.values()].map((c) => ({ ...c, offset: String(BigInt(c.offset) + 1n) }));
  }

  /** Events grouped by source table. */
  byTable(): Map<string, TableEvent[]> {
    const out = new Map<string, TableEvent[]>();
    for (const { event: e } of this.records) {
      if (!e) continue;
      const k = `${e.schema}.${e.table}`;
      let list = out.get(k);
      if (!list) out.set(k, (list = []));
      list.push(e);
    }
    return out;
  }
}
