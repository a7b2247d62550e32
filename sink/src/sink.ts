// The sink: consumes change topics with a consumer group (consume/change-consumer.ts), collects micro-batches
// (closed by rows, bytes or time), and per table folds, MERGEs into Delta (write/table-writer.ts) and only then
// commits the offsets. Each topic (one source table) has its own lane: its batches merge and commit in order
// while other tables' lanes run beside it and the consumer collects on; what is collected and merging together
// is bounded (consume/batch-scheduler.ts). Warehouse trouble is retried with backoff (status RETRYING); a
// poison record goes to the dead-letter topic or stops the sink, as configured.
import type { Logger } from 'pino';
import type { SinkConfig } from './config.ts';
import { DeadLetterQueue } from './dead-letter-queue.ts';
import type { BatchBuffer } from './consume/batch-buffer.ts';
import { BatchScheduler } from './consume/batch-scheduler.ts';
import { ChangeConsumer, type FetchedBatch } from './consume/change-consumer.ts';
import { CheckedDecoder } from './decode/checked-decoder.ts';
import { EventDecoder } from './decode/event-decoder.ts';
import { TableManager } from './tables/table-manager.ts';
import { TablePreparer } from './tables/table-preparer.ts';
import { PRIORITY, withStatementPriority } from './warehouse/session-pool.ts';
import { ViewManager } from './views/view-manager.ts';
import { phoenixViews } from './views/phoenix-views.ts';
import { langfuseViews } from './views/langfuse-views.ts';
import { langfuseV3Views, langfuseV4Views } from './views/langfuse-clickhouse-views.ts';
import { langfuseExportLegacyViews, langfuseExportV2Views, langsmithExportViews } from './views/export-views.ts';
import { connectWarehouse, type Warehouse } from './warehouse/databricks-client.ts';
import { warehouseOptions } from './warehouse/from-config.ts';
import { WarehouseRetry } from './warehouse/warehouse-retry.ts';
import { TableWriter } from './write/table-writer.ts';
import { SchemaRegistry } from '../../schemas/src/registry.ts';
import { registryUnavailable } from '../../schemas/src/registry-errors.ts';
import { TracelakeError } from '../../schemas/src/errors.ts';
import { fault } from '../../runtime/faults.ts';
import { kafkaUnreachable, lostGeneration } from '../../runtime/kafka-errors.ts';
import type { TableStatus, Worker } from '../../runtime/supervisor.ts';
import type { SinkMetrics } from './metrics.ts';
import { bounded } from '../../runtime/bounded.ts';

/**
 * Record bytes a lane merges at once, per byte of maxStatementBytes: a row's JSON in the statement is about its
 * Avro size for text, ~10% more for JSON inside strings (escaped quotes), so a lane's batch of this size
 * usually fits one statement.
 */
const RECORD_BYTES_PER_STATEMENT_BYTE = 0.85;

export type SinkStatus = 'STARTING' | 'RUNNING' | 'RETRYING' | 'STOPPED' | 'FAILED';

export interface SinkStats {
  batches: number;
  rowsMerged: number;
  eventsConsumed: number;
  deadLettered: number;
  lastMergeMs: number;
}

export class Sink implements Worker {
  private readonly cfg: SinkConfig;
  private readonly log: Logger;
  private readonly metrics: SinkMetrics | undefined;
  private readonly consumer: ChangeConsumer;
  private readonly decoder: CheckedDecoder;
  private readonly registry: SchemaRegistry;
  private readonly batches: BatchScheduler;
  private readonly retry: WarehouseRetry;
  private readonly dlq: DeadLetterQueue | undefined;
  private wh: Warehouse | undefined;
  private writer: TableWriter | undefined;
  private views: ViewManager | undefined;
  private preparer: TablePreparer | undefined;
  private lock: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  private paused = false;
  private started = false;
  private ended: 'STOPPED' | 'FAILED' | undefined;
  private finished: { resolve: () => void; reject: (e: Error) => void } | undefined;
  failure: Error | undefined;
  readonly stats: SinkStats = { batches: 0, rowsMerged: 0, eventsConsumed: 0, deadLettered: 0, lastMergeMs: 0 };

  constructor(cfg: SinkConfig, log: Logger, metrics?: SinkMetrics) {
    this.cfg = cfg;
    this.log = log;
    this.metrics = metrics;
    this.registry = new SchemaRegistry(cfg.registry.url, cfg.registry);
    if (cfg.errors.tolerance === 'all') this.dlq = new DeadLetterQueue(cfg.kafka, cfg.errors.deadLetterTopic!, log, metrics);
    this.decoder = new CheckedDecoder(new EventDecoder(this.registry), this.dlq);
    this.consumer = new ChangeConsumer(cfg.kafka, log, {
      batch: (b) => this.locked(() => this.collect(b)),
      revoked: () => this.discardBuffer(),
      topicsFound: (topics) => this.prepareTables(topics),
      failed: (err) => this.fail(err),
      stopping: () => this.stopping,
      paused: () => this.paused,
    });
    this.retry = new WarehouseRetry({ log, metrics, stopping: () => this.stopping });
    const { maxRows, maxBytes, maxWaitMs, maxStatementBytes } = cfg.batching;
    this.batches = new BatchScheduler({
      maxRows, maxBytes, maxWaitMs, laneBytes: Math.floor(maxStatementBytes * RECORD_BYTES_PER_STATEMENT_BYTE),
      apply: (topic, batch) => this.mergeAndCommit(topic, batch),
      onError: (err) => this.fail(err),
    });
  }

  get status(): SinkStatus {
    return this.ended ?? (!this.started ? 'STARTING' : this.retry.retrying ? 'RETRYING' : 'RUNNING');
  }

  /** Runs until stop() (resolves) or a non-retriable error (rejects; status FAILED). */
  async run(): Promise<void> {
    const done = new Promise<void>((resolve, reject) => (this.finished = { resolve, reject }));
    try {
      await this.start();
      await done;
      this.ended = 'STOPPED';
    } catch (err) {
      if (this.stopping && !this.failure) {
        this.ended = 'STOPPED';
        return;
      }
      this.ended = 'FAILED';
      this.failure ??= err as Error;
      const e = err as Partial<TracelakeError>;
      this.metrics?.errors.inc({ code: e.code ?? 'UNEXPECTED' });
      this.log.error({ err, code: e.code, remedy: e.remedy }, 'sink failed');
      throw err;
    } finally {
      clearInterval(this.timer);
      this.batches.stop();
      // statements in flight (a lane's MERGE, a table being prepared) finish before the warehouse closes: one
      // cut off in the middle of a CREATE TABLE could leave its location behind, unusable
      await bounded(Promise.all([this.batches.settled(), this.preparer?.idle()]), 15_000);
      await bounded(this.consumer.close(), 15_000);
      await this.dlq?.close();
      await this.wh?.close().catch(() => undefined);
    }
  }

  /**
   * Graceful: stop fetching, MERGE and commit what is buffered (bounded by the warehouse retry loop,
   * which gives up once stopping), then leave the group. Whatever is not committed is replayed later.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    if (!this.failure && this.started) await this.locked(() => this.flush()).catch(() => undefined);
    await this.consumer.stop();
    this.finished?.resolve();
  }

  /**
   * Stops taking records: the consumer waits before handing the next one over (the client stops fetching once its
   * buffer is full); partitions stay assigned, buffered events are still merged by the timer.
   */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  phase(): string {
    return this.status === 'RUNNING' && this.paused ? 'PAUSED' : this.status;
  }

  tables(): TableStatus[] {
    return [...this.writer?.progress ?? []].map(([table, p]) => ({ table, state: this.status === 'FAILED' ? 'FAILED' : this.paused ? 'PAUSED' : 'RUNNING', ...p }));
  }

  /**
   * Ends the run with `err` — unless no Kafka broker answered (a broker restart) or the schema registry did not
   * answer within its retries: then, whichever path saw it (the consumer crashing, an offset commit, a
   * dead-letter send, a schema look-up), the consumer starts again with backoff and what was not committed is
   * read again.
   */
  private fail(err: Error): void {
    if ((kafkaUnreachable(err) || registryUnavailable(err)) && !this.stopping && !this.failure) {
      if (!this.consumer.restarting) this.metrics?.errors.inc({ code: registryUnavailable(err) ? 'REGISTRY_UNAVAILABLE' : 'KAFKA_UNAVAILABLE' });
      void this.consumer.restartLater(err);
      return;
    }
    this.failure ??= err;
    void this.consumer.stop();
    this.finished?.reject(err);
  }

  private async start(): Promise<void> {
    const w = this.cfg.warehouse;
    this.wh = await this.retry.run('connect to the warehouse', () => connectWarehouse(warehouseOptions(w, (level, message) => {
      if (level === 'error' || level === 'warn') this.log.warn({ driver: message }, 'warehouse driver');
    })));
    const tables = new TableManager(this.wh, this.cfg);
    await this.retry.run('create the target schema', () => tables.init());
    // Langfuse: v4 (events_full from ClickHouse), v3 (observations from ClickHouse), v2 (observations from Postgres);
    // exported files: Langfuse's enriched observations, else its legacy ones; LangSmith's runs
    const viewSet = {
      phoenix: [phoenixViews], langfuse: [langfuseV4Views, langfuseV3Views, langfuseViews],
      'langfuse-export': [langfuseExportV2Views, langfuseExportLegacyViews], 'langsmith-export': [langsmithExportViews], custom: undefined,
    }[this.cfg.platform];
    if (viewSet) this.views = new ViewManager(this.wh, tables.qualifiedSchema(), this.cfg.warehouse.tablePrefix, viewSet, this.log);
    this.writer = new TableWriter({
      cfg: this.cfg, warehouse: this.wh, tables, retry: this.retry, deadLetters: this.dlq, log: this.log, metrics: this.metrics,
    });
    this.preparer = new TablePreparer(this.registry, tables, this.log);
    if (this.dlq) await this.dlq.connect();
    if (this.metrics) this.metrics.lagReader = () => this.consumer.lag();
    await this.consumer.start();
    this.started = true;
    this.timer = setInterval(() => {
      if (this.failure) return;
      this.batches.startDue(); // backs up the per-topic timers
      // a table that appeared in the last batch before a quiet period still gets its views
      if (this.views && this.batches.busyLanes === 0) void this.ensureViews();
    }, Math.max(50, Math.floor(this.cfg.batching.maxWaitMs / 4)));
    this.log.info({ groupId: this.cfg.kafka.groupId, prefix: this.cfg.kafka.topicPrefix, topics: this.consumer.topics.length }, 'sink running');
  }

  /** One fetched batch into the micro-batches (under the lock). */
  private async collect(b: FetchedBatch): Promise<void> {
    for (const m of b.messages) {
      // reassigned since it was fetched, or stopping: not collected, so not committed — read again from the
      // committed offset (by whoever owns the partition then). Pausing waits in the consumer, before a record
      // is handed over: a record skipped while a later one of its partition is committed would be lost
      if (!b.current() || this.stopping) break;
      const bytes = (m.value?.length ?? 0) + (m.key?.length ?? 0);
      await this.batches.roomFor(bytes); // a large row waits for what is before it to be merged
      const ev = await this.decoder.decode(b.topic, b.partition, m);
      this.stats.deadLettered = this.dlq?.sent ?? 0;
      this.batches.add(b.topic, b.partition, m.offset, ev, bytes);
      this.metrics?.buffered.set(this.batches.collectedRows);
      this.stats.eventsConsumed++;
      this.metrics?.eventsConsumed.inc();
      await this.batches.roomForMore(); // at the bound: lanes take batches, the consumer waits for room
    }
  }

  /** Serializes buffer access between the consumer and the flush timer. */
  private locked(fn: () => Promise<void>): Promise<void> {
    // after a failure nothing more is merged or committed; the run ends
    const next = this.lock.then(() => (this.failure ? undefined : fn()));
    this.lock = next.catch((err: unknown) => this.fail(err as Error));
    return next;
  }

  /**
   * Prepares the Delta tables of `topics` ahead of their first events, in the background (one at a time): the
   * tables the curated views read first and at once, the others while no table is merging. Views are checked as
   * soon as one of theirs exists.
   */
  private prepareTables(topics: string[]): void {
    const views = this.views;
    const readByViews = (topic: string) => !!views && views.reads(topic.slice(topic.lastIndexOf('.') + 1));
    const ordered = [...topics.filter(readByViews), ...topics.filter((t) => !readByViews(t))];
    void this.preparer?.prepare(ordered, {
      stopped: () => this.stopping || !!this.failure,
      priority: (topic) => (readByViews(topic) ? PRIORITY.views : PRIORITY.background),
      // the views' tables at once; the others while no table is merging (their first event would create them anyway)
      turn: (topic) => (readByViews(topic) ? Promise.resolve() : this.batches.whenIdle()),
      prepared: async (t) => {
        if (views?.reads(t.table)) await views.ensure(true).catch((err: unknown) => this.log.error({ err: (err as Error).message }, 'curated views could not be created'));
      },
    });
  }

  /** Views are derived: a failure to create them is reported, not a reason to stop the pipeline. */
  private async ensureViews(): Promise<void> {
    await this.views?.ensure().catch((err: unknown) => this.log.error({ err: (err as Error).message }, 'curated views could not be created'));
  }

  /** Drops what was consumed and not merged (read again from the committed offsets). */
  private discardBuffer(): Promise<void> {
    this.batches.newGeneration(); // at once: a lane whose MERGE ends from now on commits nothing
    return this.locked(async () => {
      this.batches.dropCollected(); // once the consumer's current loop is done: what it added goes too
      this.metrics?.buffered.set(0);
    });
  }

  /** Merges and commits everything collected, and waits for it. Call under the lock. */
  private async flush(): Promise<void> {
    await this.batches.drain();
    if (this.failure) throw this.failure;
  }

  /** MERGEs a topic's batch, then commits its offsets — unless the consumer's assignment changed meanwhile. */
  private async mergeAndCommit(topic: string, batch: BatchBuffer): Promise<void> {
    if (this.failure) return;
    const started = Date.now();
    let rows = 0;
    // one table per topic, as the connector writes; the tables the curated views read (those their rows come from
    // and those they join, such as costs and sessions) get the warehouse before the others: a cold start's seed
    // tables (Phoenix's 1,236 token prices) held the sessions while the cost tables' first MERGEs waited (docs/benchmarks.md)
    for (const events of batch.byTable().values()) {
      rows += await withStatementPriority(this.views?.reads(events[0]!.table) ? PRIORITY.views : PRIORITY.tables, () => this.writer!.write(events));
    }
    this.stats.deadLettered = this.dlq?.sent ?? 0;
    fault('after-merge'); // Delta has the batch, Kafka offsets are not committed yet
    if (batch.epoch !== this.batches.currentEpoch || this.consumer.restarting) {
      // a rebalance or a consumer restart came while it merged: its partitions may have another owner, who
      // reads the batch again from the committed offsets — and replays change nothing
      this.log.info({ topic, events: batch.eventCount }, 'offsets not committed: the consumer was reassigned while the batch merged; it will be replayed (idempotent)');
      return;
    }
    try {
      await this.consumer.commit(batch.commits());
    } catch (err) {
      if (!lostGeneration(err) && (err as Partial<TracelakeError>).code !== 'COMMIT_TIMEOUT') throw err;
      // the group moved on (this member was evicted or a rebalance began): the batch is in Delta but its
      // offsets are not committed; whoever owns the partitions next replays it, and replays change nothing
      this.metrics?.errors.inc({ code: 'COMMIT_REBALANCED' });
      this.log.warn({ topic, err: (err as Error).message, events: batch.eventCount }, 'offsets not committed: the consumer group rebalanced; the batch will be replayed (idempotent)');
      return;
    }
    const ms = Date.now() - started;
    this.stats.batches++;
    this.stats.rowsMerged += rows;
    this.stats.lastMergeMs = ms;
    this.metrics?.batches.inc();
    this.metrics?.batchSeconds.observe(ms / 1000);
    this.metrics?.lastCommitAt.set(Date.now() / 1000);
    this.log.debug({ topic, events: batch.eventCount, rows, waitedMs: started - (batch.firstAt ?? started), ms }, 'batch merged and committed');
    // not waited for: the lane is free for its next batch while the views are checked (they wait for a session)
    void this.ensureViews();
  }
}
