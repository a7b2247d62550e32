// The micro-batch being collected: decoded events, the next offset to commit per partition, and the size
// that decides when to merge.
import type { TableEvent } from '../decode/table-event.ts';

export class BatchBuffer {
  /** the consumer generation it was read in (see Sink): a batch of an earlier one commits nothing */
  readonly epoch: number;
  events: TableEvent[] = [];
  /** topic → partition → last offset seen */
  private last = new Map<string, Map<number, bigint>>();
  rows = 0;
  bytes = 0;
  firstAt: number | null = null;

  constructor(epoch = 0) {
    this.epoch = epoch;
  }

  add(topic: string, partition: number, offset: string, event: TableEvent | null, bytes: number): void {
    if (event) this.events.push(event);
    let parts = this.last.get(topic);
    if (!parts) this.last.set(topic, (parts = new Map()));
    parts.set(partition, BigInt(offset));
    this.rows++;
    this.bytes += bytes;
    this.firstAt ??= Date.now();
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
