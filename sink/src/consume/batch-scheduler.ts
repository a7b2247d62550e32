// When the sink merges what it consumed. Events are collected per topic (one topic is one source table); each
// topic has one lane that merges and commits that topic's events one batch after the other, in offset order.
// Lanes of different topics run side by side, so a table whose MERGE is slow never holds back another's, and
// while a lane is busy its topic's events keep collecting into its next batch (a slow table merges larger
// batches instead of falling behind batch by batch).
//
// A topic's lane starts a MERGE at most once every batching.maxWaitMs: its batch is due maxWaitMs after the
// lane's previous start, or — a table quiet for longer than that — QUIET_LINGER_MS after its first event (so
// a quiet table's change is not held for maxWaitMs, and the statements per table stay within one per
// maxWaitMs). Everything collected reaching maxRows / maxBytes makes every batch due at once.
//
// A lane takes at most laneBytes of its batch per MERGE, the oldest records (one statement's worth: a batch a
// little over a statement would otherwise cost a second, nearly empty MERGE, and every MERGE costs the
// warehouse a fixed time); the rest stays collected and is due as usual.
//
// Memory is bounded as with one batch merging and one collecting: lanes start only while what they merge
// together stays within maxRows and maxBytes (or none is busy), and the consumer waits while what is
// collected is at the bound.
import { BatchBuffer } from './batch-buffer.ts';
import type { TableEvent } from '../decode/table-event.ts';

/** How long a quiet table's first event waits for others to join it (a transaction's rows arrive together). */
export const QUIET_LINGER_MS = 200;

export interface SchedulerOptions {
  maxRows: number;
  maxBytes: number;
  maxWaitMs: number;
  /** the most record bytes a lane merges at once (its oldest records; the rest waits for the next MERGE) */
  laneBytes?: number;
  /** merges a topic's batch and commits its offsets; a failure ends the scheduler's work (see onError) */
  apply: (topic: string, batch: BatchBuffer) => Promise<void>;
  onError: (err: Error) => void;
}

export class BatchScheduler {
  private readonly opts: SchedulerOptions;
  private pending = new Map<string, BatchBuffer>();
  /** rows and bytes in `pending`, kept as records come and batches go (checked on every record) */
  private pendingRows = 0;
  private pendingBytes = 0;
  private readonly merging = new Map<string, { rows: number; bytes: number; done: Promise<void> }>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** when each topic's lane last started a MERGE */
  private readonly lastStart = new Map<string, number>();
  private waiters: Array<() => void> = [];
  private epoch = 0;
  private stopped = false;

  constructor(opts: SchedulerOptions) {
    this.opts = opts;
  }

  /** Adds a consumed record (null for one with nothing to merge: its offset is committed all the same). */
  add(topic: string, partition: number, offset: string, event: TableEvent | null, bytes: number): void {
    let batch = this.pending.get(topic);
    const first = !batch;
    if (!batch) this.pending.set(topic, (batch = new BatchBuffer(this.epoch)));
    batch.add(topic, partition, offset, event, bytes);
    this.pendingRows++;
    this.pendingBytes += bytes;
    if (first) this.armTimer(topic, batch);
  }

  /** Events collected and not yet merging, in all topics. */
  get collectedRows(): number {
    return this.pendingRows;
  }

  get busyLanes(): number {
    return this.merging.size;
  }

  /**
   * Call after add(): at the bound, starts every lane it can and waits (the consumer's backpressure) until
   * what is collected is below the bound again.
   */
  async roomForMore(): Promise<void> {
    while (!this.stopped && this.atBound()) {
      this.startLanes(() => true);
      if (!this.atBound()) return;
      await this.laneFinished();
    }
  }

  /**
   * Call before decoding a record of `bytes`: a record at or past maxBytes (a multi-megabyte row) waits until
   * everything collected before it is merged and no lane is busy, so at most one such row is held decoded at a
   * time (two 60 MB rows, decoded, were past the sink's heap bound).
   */
  async roomFor(bytes: number): Promise<void> {
    if (bytes >= this.opts.maxBytes) await this.drain();
  }

  /** Starts the idle lanes whose batch is due (a periodic check backs up the per-topic timers). */
  startDue(now = Date.now()): void {
    const bound = this.atBound();
    this.startLanes((b, topic) => bound || now >= this.dueAt(topic, b));
  }

  /** When a topic's collected batch is due (see the top of this file). */
  private dueAt(topic: string, b: BatchBuffer): number {
    const first = b.firstAt ?? Date.now();
    return Math.max(first + Math.min(QUIET_LINGER_MS, this.opts.maxWaitMs), (this.lastStart.get(topic) ?? -Infinity) + this.opts.maxWaitMs);
  }

  /** Merges and commits everything collected, whether due or not, and waits until no lane is busy. */
  async drain(): Promise<void> {
    while (!this.stopped && (this.pending.size > 0 || this.merging.size > 0)) {
      this.startLanes(() => true);
      await this.laneFinished();
    }
  }

  /** A new consumer generation (a rebalance, a restart): batches collected before it, merging or not, commit nothing. */
  newGeneration(): void {
    this.epoch++;
  }

  /** Drops what is collected and not merging (it is read again from the committed offsets). */
  dropCollected(): void {
    this.pending = new Map();
    this.pendingRows = 0;
    this.pendingBytes = 0;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  /** The generation batches are collected in now: a batch of an earlier one must not commit. */
  get currentEpoch(): number {
    return this.epoch;
  }

  /** Resolves at the next moment no lane is busy (work that can wait for a quiet warehouse). */
  async whenIdle(): Promise<void> {
    while (!this.stopped && this.merging.size > 0) await this.laneFinished();
  }

  /** Resolves once no lane is busy (what merges then finishes; nothing new starts after stop()). */
  async settled(): Promise<void> {
    await Promise.all([...this.merging.values()].map((m) => m.done));
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.wake();
  }

  private atBound(): boolean {
    return this.pendingRows >= this.opts.maxRows || this.pendingBytes >= this.opts.maxBytes;
  }

  private startLanes(ready: (b: BatchBuffer, topic: string) => boolean): void {
    if (this.stopped) return;
    // oldest batches first
    const candidates = [...this.pending].filter(([topic, b]) => !this.merging.has(topic) && ready(b, topic))
      .sort(([, a], [, b]) => (a.firstAt ?? 0) - (b.firstAt ?? 0));
    for (const [topic, collected] of candidates) {
      const head = this.opts.laneBytes ? collected.head(this.opts.laneBytes) : null;
      const batch = head ?? collected;
      let rows = batch.rows;
      let bytes = batch.bytes;
      for (const m of this.merging.values()) {
        rows += m.rows;
        bytes += m.bytes;
      }
      if (this.merging.size > 0 && (rows > this.opts.maxRows || bytes > this.opts.maxBytes)) break;
      this.pendingRows -= batch.rows;
      this.pendingBytes -= batch.bytes;
      clearTimeout(this.timers.get(topic));
      this.timers.delete(topic);
      this.lastStart.set(topic, Date.now());
      if (head) {
        collected.dropHead(head);
        this.armTimer(topic, collected); // the rest is due after this MERGE, as a batch collected meanwhile
      } else {
        this.pending.delete(topic);
      }
      const done = this.opts.apply(topic, batch)
        .catch((err: unknown) => this.opts.onError(err as Error))
        .finally(() => {
          this.merging.delete(topic);
          this.wake();
          this.startDue(); // its topic may have a due batch again, and others may have waited for room
        });
      this.merging.set(topic, { rows: batch.rows, bytes: batch.bytes, done });
    }
  }

  private armTimer(topic: string, batch: BatchBuffer): void {
    this.timers.set(topic, setTimeout(() => {
      this.timers.delete(topic);
      this.startDue();
      // a timer may fire a millisecond before Date.now() reaches its due time: then it waits once more
      if (this.pending.get(topic) === batch && !this.merging.has(topic) && !this.stopped) this.armTimer(topic, batch);
    }, Math.max(0, this.dueAt(topic, batch) - Date.now())));
  }

  private laneFinished(): Promise<void> {
    if (this.merging.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const resolve of w) resolve();
  }
}
