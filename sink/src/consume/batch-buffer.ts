// The micro-batch being collected: decoded events, the next offset to commit per partition, and the size
// that decides when to merge. A batch can hand over its oldest records as a batch of their own (takeHead).
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
  events: TableEvent[] = [];
  /** topic → partition → last offset seen */
  private last = new Map<string, Map<number, bigint>>();
  rows = 0;
  bytes = 0;
  firstAt: number | null = null;
  /** every record, in the order added (a head taken off keeps offset order per partition) */
  private records: CollectedRecord[] = [];

  constructor(epoch = 0) {
    this.epoch = epoch;
  }

  add(topic: string, partition: number, offset: string, event: TableEvent | null, bytes: number): void {
    this.records.push({ topic, partition, offset, event, bytes });
    if (event) this.events.push(event);
    let parts = this.last.get(topic);
    if (!parts) this.last.set(topic, (parts = new Map()));
    parts.set(partition, BigInt(offset));
    this.rows++;
    this.bytes += bytes;
    this.firstAt ??= Date.now();
  }

  /**
   * When this batch holds more than `maxBytes`: its oldest records up to `maxBytes` (at least one) as a batch of
   * their own, to merge and commit first; this batch keeps the rest (and its firstAt). Otherwise null.
   */
  takeHead(maxBytes: number): BatchBuffer | null {
    if (this.bytes <= maxBytes || this.records.length < 2) return null;
    const head = new BatchBuffer(this.epoch);
    let i = 0;
    do head.addRecord(this.records[i++]!);
    while (i < this.records.length && head.bytes + this.records[i]!.bytes <= maxBytes);
    head.firstAt = this.firstAt;
    this.refill(this.records.slice(i));
    return head;
  }

  /** Undoes takeHead: the head's records go back in front of this batch's. */
  putBackHead(head: BatchBuffer): void {
    this.refill([...head.records, ...this.records]);
  }

  private refill(records: CollectedRecord[]): void {
    this.records = [];
    this.events = [];
    this.last = new Map();
    this.rows = 0;
    this.bytes = 0;
    for (const r of records) this.addRecord(r);
  }

  private addRecord(r: CollectedRecord): void {
    const firstAt = this.firstAt;
    this.add(r.topic, r.partition, r.offset, r.event, r.bytes);
    this.firstAt = firstAt ?? this.firstAt;
  }

  get empty(): boolean {
    return this.rows === 0;
  }

  /** Offsets to commit once this batch is in Delta: the next offset of each partition. */
  commits(): Array<{ topic: string; partition: number; offset: string }> {
    return [...this.last].flatMap(([topic, parts]) => [...parts].map(([partition, off]) => ({ topic, partition, offset: String(off + 1n) })));
  }

  /** Events grouped by source table. */
  byTable(): Map<string, TableEvent[]> {
    const out = new Map<string, TableEvent[]>();
    for (const e of this.events) {
      const k = `${e.schema}.${e.table}`;
      let list = out.get(k);
      if (!list) out.set(k, (list = []));
      list.push(e);
    }
    return out;
  }
}
