// The sink: consumes change topics with a consumer group, collects micro-batches (closed by rows, bytes or
// time), folds each table's events per key, MERGEs them into Delta, and only then commits the offsets.
// Each topic (one source table) has its own lane: its batches merge and commit in order while other tables'
// lanes run beside it and the consumer collects on; what is collected and merging together is bounded
// (consume/batch-scheduler.ts). Warehouse trouble is retried with backoff (status RETRYING); a poison record
// goes to the dead-letter topic or stops the sink, as configured.
import type { Admin, Consumer, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { kafkaClient } from '../../runtime/kafka.ts';
import type { Logger } from 'pino';
import type { SinkConfig } from './config.ts';
import type { BatchBuffer } from './consume/batch-buffer.ts';
import { BatchScheduler } from './consume/batch-scheduler.ts';
import { EventDecoder } from './decode/event-decoder.ts';
import type { ColumnDef, TableEvent } from './decode/table-event.ts';
import { foldBatch, type FoldedRow } from './fold/fold-batch.ts';
import { planMerges, planTombstones, planTruncate, type TablePlanInput } from './plan/merge-plan.ts';
import { TableManager } from './tables/table-manager.ts';
import { TablePreparer } from './tables/table-preparer.ts';
import { PRIORITY, withStatementPriority } from './warehouse/session-pool.ts';
import { ViewManager } from './views/view-manager.ts';
import { phoenixViews } from './views/phoenix-views.ts';
import { langfuseViews } from './views/langfuse-views.ts';
import { connectWarehouse, type Warehouse } from './warehouse/databricks-client.ts';
import { warehouseOptions } from './warehouse/from-config.ts';
import { SchemaRegistry } from '../../schemas/src/registry.ts';
import { changeTopicMatcher } from '../../schemas/src/envelope.ts';
import { TracelakeError } from '../../schemas/src/errors.ts';
import { fault } from '../../runtime/faults.ts';
import type { TableStatus, Worker } from '../../runtime/supervisor.ts';
import type { SinkMetrics } from './metrics.ts';
import { bounded } from '../../runtime/bounded.ts';

export type SinkStatus = 'STARTING' | 'RUNNING' | 'RETRYING' | 'STOPPED' | 'FAILED';

export interface SinkStats {
  batches: number;
  rowsMerged: number;
  eventsConsumed: number;
  deadLettered: number;
  lastMergeMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface TableProgress {
  rowsMerged: number;
  lastMergeAt?: string;
  lastMergeMs?: number;
}

export class Sink implements Worker {
  private readonly cfg: SinkConfig;
  private readonly log: Logger;
  private readonly kafka: Kafka;
  private consumer: Consumer | undefined;
  private dlq: Producer | undefined;
  private wh: Warehouse | undefined;
  private tableManager: TableManager | undefined;
  private views: ViewManager | undefined;
  private decoder: EventDecoder;
  private readonly registry: SchemaRegistry;
  private preparer: TablePreparer | undefined;
  private readonly batches: BatchScheduler;
  private lock: Promise<void> = Promise.resolve();
  /** keeps the group membership alive while a MERGE runs (one statement can outlast the session timeout) */
  private beat: NodeJS.Timeout | undefined;
  private heartbeat: () => Promise<void> = async () => undefined;
  private timer: NodeJS.Timeout | undefined;
  private refresher: NodeJS.Timeout | undefined;
  private topics: string[] = [];
  private admin: Admin | undefined;
  /** change topics of the prefix: <prefix>.<schema>.<table> */
  private readonly isChangeTopic: (topic: string) => boolean;
  private restarting = false;
  private stopping = false;
  private finished: { resolve: () => void; reject: (e: Error) => void } | undefined;
  status: SinkStatus = 'STARTING';
  failure: Error | undefined;
  readonly stats: SinkStats = { batches: 0, rowsMerged: 0, eventsConsumed: 0, deadLettered: 0, lastMergeMs: 0 };
  private readonly metrics: SinkMetrics | undefined;
  private readonly progress = new Map<string, TableProgress>();
  private paused = false;

  constructor(cfg: SinkConfig, log: Logger, metrics?: SinkMetrics) {
    this.cfg = cfg;
    this.log = log;
    this.metrics = metrics;
    this.kafka = kafkaClient(cfg.kafka, 'tracelake-sink');
    this.registry = new SchemaRegistry(cfg.registry.url, cfg.registry);
    this.decoder = new EventDecoder(this.registry);
    this.isChangeTopic = changeTopicMatcher(cfg.kafka.topicPrefix);
    const { maxRows, maxBytes, maxWaitMs } = cfg.batching;
    this.batches = new BatchScheduler({
      maxRows, maxBytes, maxWaitMs,
      apply: (topic, batch) => this.mergeAndCommit(topic, batch),
      onError: (err) => this.fail(err),
      onBusy: (lanes) => {
        if (lanes > 0) this.beat ??= setInterval(() => void this.heartbeat().catch(() => undefined), 3000);
        else {
          clearInterval(this.beat);
          this.beat = undefined;
        }
      },
    });
  }

  /** Runs until stop() (resolves) or a non-retriable error (rejects; status FAILED). */
  async run(): Promise<void> {
    const done = new Promise<void>((resolve, reject) => (this.finished = { resolve, reject }));
    try {
      await this.start();
      await done;
      this.status = 'STOPPED';
    } catch (err) {
      if (this.stopping && !this.failure) {
        this.status = 'STOPPED';
        return;
      }
      this.status = 'FAILED';
      this.failure ??= err as Error;
      const e = err as Partial<TracelakeError>;
      this.metrics?.errors.inc({ code: e.code ?? 'UNEXPECTED' });
      this.log.error({ err, code: e.code, remedy: e.remedy }, 'sink failed');
      throw err;
    } finally {
      clearInterval(this.timer);
      this.batches.stop();
      clearInterval(this.refresher);
      // statements in flight (a lane's MERGE, a table being prepared) finish before the warehouse closes: one
      // cut off in the middle of a CREATE TABLE could leave its location behind, unusable
      await bounded(Promise.all([this.batches.settled(), this.preparer?.idle()]), 15_000);
      clearInterval(this.beat);
      await bounded(this.consumer?.disconnect(), 15_000);
      await this.dlq?.disconnect().catch(() => undefined);
      await this.admin?.disconnect().catch(() => undefined);
      await this.wh?.close().catch(() => undefined);
    }
  }

  /**
   * Graceful: stop fetching, MERGE and commit what is buffered (bounded by the warehouse retry loop,
   * which gives up once stopping), then leave the group. Whatever is not committed is replayed later.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.pauseConsumer();
    if (!this.failure && this.consumer) await this.locked(() => this.flush()).catch(() => undefined);
    await this.consumer?.stop().catch(() => undefined);
    this.finished?.resolve();
  }

  /** Stops fetching; partitions stay assigned, buffered events are still merged by the timer. */
  pause(): void {
    this.paused = true;
    this.pauseConsumer();
  }

  resume(): void {
    this.paused = false;
    try {
      if (this.consumer && this.topics.length > 0) this.consumer.resume(this.topics.map((topic) => ({ topic })));
    } catch {
      // not running yet: it starts unpaused
    }
  }

  private pauseConsumer(): void {
    try {
      if (this.consumer && this.topics.length > 0) this.consumer.pause(this.topics.map((topic) => ({ topic })));
    } catch {
      // not running yet: startConsumer pauses it once it runs
    }
  }

  phase(): string {
    return this.status === 'RUNNING' && this.paused ? 'PAUSED' : this.status;
  }

  tables(): TableStatus[] {
    return [...this.progress].map(([table, p]) => ({ table, state: this.status === 'FAILED' ? 'FAILED' : this.paused ? 'PAUSED' : 'RUNNING', ...p }));
  }

  /**
   * Ends the run with `err` — unless no Kafka broker answered (a broker restart) or the schema registry did not
   * answer within its retries: then, whichever path saw it (the consumer crashing, an offset commit, a
   * dead-letter send, a schema look-up), the consumer starts again with backoff and what was not committed is
   * read again.
   */
  private fail(err: Error): void {
    if ((kafkaUnreachable(err) || registryUnavailable(err)) && !this.stopping && !this.failure) {
      void this.restartConsumerLater(err);
      return;
    }
    this.failure ??= err;
    void this.consumer?.stop().catch(() => undefined);
    this.finished?.reject(err);
  }

  private async start(): Promise<void> {
    const w = this.cfg.warehouse;
    this.wh = await this.retrying('connect to the warehouse', () => connectWarehouse(warehouseOptions(w, (level, message) => {
      if (level === 'error' || level === 'warn') this.log.warn({ driver: message }, 'warehouse driver');
    })));
    this.tableManager = new TableManager(this.wh, this.cfg);
    await this.retrying('create the target schema', () => this.tableManager!.init());
    const viewSet = { phoenix: phoenixViews, langfuse: langfuseViews, custom: undefined }[this.cfg.platform];
    if (viewSet) this.views = new ViewManager(this.wh, this.tableManager.qualifiedSchema(), this.cfg.warehouse.tablePrefix, viewSet, this.log);
    if (this.cfg.errors.tolerance === 'all') {
      this.dlq = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await this.untilKafka('connect the dead-letter producer', () => this.dlq!.connect());
    }
    this.topics = await this.untilKafka('list the change topics', () => this.waitForTopics());
    this.preparer = new TablePreparer(this.registry, this.tableManager, this.log);
    this.prepareTables(this.topics);
    if (this.metrics) this.metrics.lagReader = () => this.consumerLag();
    await this.untilKafka('start the consumer', async () => {
      try {
        await this.startConsumer();
      } catch (err) {
        await this.consumer?.disconnect().catch(() => undefined);
        throw err;
      }
    });
    this.status = 'RUNNING';
    this.timer = setInterval(() => {
      if (this.failure) return;
      this.batches.startDue(); // backs up the per-topic timers
      // a table that appeared in the last batch before a quiet period still gets its views
      if (this.views && this.batches.busyLanes === 0) void this.ensureViews();
    }, Math.max(50, Math.floor(this.cfg.batching.maxWaitMs / 4)));
    this.refresher = setInterval(() => void this.refreshTopics().catch((err: unknown) => {
      this.log.warn({ err }, 'topic refresh failed');
      // the consumer may have been stopped for the resubscription: fail() restarts it when Kafka is the cause
      if (kafkaUnreachable(err)) this.fail(err as Error);
    }), this.cfg.kafka.topicRefreshMs);
    this.log.info({ groupId: this.cfg.kafka.groupId, prefix: this.cfg.kafka.topicPrefix, topics: this.topics.length }, 'sink running');
  }

  /** Retries `fn` while no Kafka broker answers (a sink started during a broker restart waits for it). */
  private async untilKafka<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (let delay = 1000; ; delay = Math.min(delay * 2, 30_000)) {
      try {
        return await fn();
      } catch (err) {
        if (!kafkaUnreachable(err) || this.stopping) throw err;
        await this.admin?.disconnect().catch(() => undefined);
        this.admin = undefined; // a fresh admin client on the next try
        this.log.warn({ what, err: (err as Error).message, retryInMs: delay }, 'Kafka unreachable; retrying');
        await sleep(delay);
      }
    }
  }

  /** Per topic: records after the group's committed offsets (from the start where none is committed). */
  private async consumerLag(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (!this.admin || this.topics.length === 0) return out;
    const committed = await this.admin.fetchOffsets({ groupId: this.cfg.kafka.groupId, topics: this.topics });
    for (const { topic, partitions } of committed) {
      const ends = await this.admin.fetchTopicOffsets(topic);
      let lag = 0;
      for (const e of ends) {
        const c = Number(partitions.find((p) => p.partition === e.partition)?.offset ?? -1);
        lag += Number(e.high) - (c >= 0 ? c : Number(e.low));
      }
      out.set(topic, lag);
    }
    return out;
  }

  private async matchingTopics(): Promise<string[]> {
    if (!this.admin) {
      this.admin = this.kafka.admin();
      await this.admin.connect();
    }
    return (await this.admin.listTopics()).filter(this.isChangeTopic).sort();
  }

  private async waitForTopics(): Promise<string[]> {
    for (;;) {
      const topics = await this.matchingTopics();
      if (topics.length > 0 || this.stopping) return topics;
      this.log.info({ prefix: this.cfg.kafka.topicPrefix }, 'no change topics yet; waiting');
      await sleep(Math.min(this.cfg.kafka.topicRefreshMs, 2000));
    }
  }

  /**
   * kafkajs resolves subscriptions once, so topics created later (a table's first event, a new table)
   * are picked up by merging what is buffered, then restarting the consumer with the longer list.
   */
  private async refreshTopics(): Promise<void> {
    if (this.stopping || this.restarting) return;
    const now = await this.matchingTopics();
    if (now.every((t) => this.topics.includes(t))) return;
    this.restarting = true;
    try {
      this.log.info({ added: now.filter((t) => !this.topics.includes(t)) }, 'new change topics; resubscribing');
      await this.locked(() => this.flush());
      await this.consumer?.disconnect();
      await this.discardBuffer(); // consumed after the flush, not committed: replayed
      this.topics = now;
      this.prepareTables(now);
      if (!this.stopping) await this.startConsumer();
    } finally {
      this.restarting = false;
    }
  }

  private async startConsumer(): Promise<void> {
    // maxWaitTimeInMs: the Java consumer's fetch.max.wait.ms (kafkajs waits 5 s). A broker answers one connection's
    // requests in order, and kafkajs sends offset commits and heartbeats on the connection an idle fetch is
    // waiting on: each commit waited up to 5 s behind it
    const consumer = this.kafka.consumer({
      groupId: this.cfg.kafka.groupId, sessionTimeout: this.cfg.kafka.sessionTimeoutMs, heartbeatInterval: 3000, maxWaitTimeInMs: 500,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.REBALANCING, () => {
      // uncommitted work of revoked partitions is replayed by their next owner: drop it here
      void this.discardBuffer();
    });
    consumer.on(consumer.events.CRASH, (e) => {
      if (!e.payload.restart) this.fail(e.payload.error); // else kafkajs restarts it
    });
    await consumer.connect();
    await consumer.subscribe({ topics: this.topics, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        this.heartbeat = heartbeat;
        await this.locked(async () => {
          for (const m of batch.messages) {
            // paused or stopping: leave the rest unresolved — kafkajs fetches it again from there (as its
            // own eachMessage loop does when a partition is paused)
            if (!isRunning() || isStale() || this.paused || this.stopping) break;
            const bytes = (m.value?.length ?? 0) + (m.key?.length ?? 0);
            await this.batches.roomFor(bytes); // a large row waits for what is before it to be merged
            const ev = await this.decode(batch.topic, batch.partition, m);
            this.batches.add(batch.topic, batch.partition, m.offset, ev, bytes);
            this.metrics?.buffered.set(this.batches.collectedRows);
            this.stats.eventsConsumed++;
            this.metrics?.eventsConsumed.inc();
            resolveOffset(m.offset);
            await this.batches.roomForMore(); // at the bound: lanes take batches, the consumer waits for room
          }
        });
      },
    });
    if (this.paused || this.stopping) this.pauseConsumer(); // kafkajs pauses only a running consumer
  }

  /**
   * Kafka went away for longer than kafkajs retries (a broker restart): start the consumer again with
   * backoff instead of failing, as a Kafka Connect worker would. What was consumed and not committed is
   * read again.
   */
  private async restartConsumerLater(err: Error): Promise<void> {
    if (this.restarting) return;
    this.restarting = true;
    this.metrics?.errors.inc({ code: registryUnavailable(err) ? 'REGISTRY_UNAVAILABLE' : 'KAFKA_UNAVAILABLE' });
    try {
      await this.consumer?.disconnect().catch(() => undefined);
      await this.discardBuffer();
      for (let delay = 2000; !this.stopping; delay = Math.min(delay * 2, 30_000)) {
        this.log.warn({ err: err.message, code: (err as Partial<TracelakeError>).code, retryInMs: delay }, 'Kafka or the schema registry unreachable: restarting the consumer; uncommitted events are read again');
        await sleep(delay);
        try {
          await this.startConsumer();
          this.log.info('consumer restarted');
          return;
        } catch (e) {
          err = e as Error;
          await this.consumer?.disconnect().catch(() => undefined);
        }
      }
    } finally {
      this.restarting = false;
    }
  }

  /** Serializes buffer access between the consumer and the flush timer. */
  private locked(fn: () => Promise<void>): Promise<void> {
    // after a failure nothing more is merged or committed; the run ends
    const next = this.lock.then(() => (this.failure ? undefined : fn()));
    this.lock = next.catch((err: unknown) => this.fail(err as Error));
    return next;
  }

  private async decode(topic: string, partition: number, m: KafkaMessage): Promise<TableEvent | null> {
    try {
      return await this.decoder.decode(topic, partition, m);
    } catch (err) {
      const e = err as Partial<TracelakeError> & Error;
      if (e.retriable) throw err; // registry unreachable: not the record's fault
      if (this.cfg.errors.tolerance === 'none' || !this.dlq) {
        throw new TracelakeError(`poison record at ${topic}[${partition}]@${m.offset}: ${e.message}`, {
          code: 'POISON_RECORD', cause: err,
          remedy: 'inspect the record; set errors.tolerance: all with errors.deadLetterTopic to route such records aside and go on',
        });
      }
      await this.deadLetter(topic, partition, m.offset, { key: m.key, value: m.value }, 'VALUE_CONVERTER', e);
      return null;
    }
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

  /** Sends a record to the dead-letter topic with Kafka Connect's error headers. */
  private async deadLetter(topic: string, partition: number, offset: string, raw: { key: Buffer | null; value: Buffer | null }, stage: string, err: Error & { code?: string }): Promise<void> {
    await this.dlq!.send({
      topic: this.cfg.errors.deadLetterTopic!, acks: -1,
      messages: [{
        key: raw.key, value: raw.value,
        headers: {
          '__connect.errors.topic': topic, '__connect.errors.partition': String(partition), '__connect.errors.offset': offset,
          '__connect.errors.connector.name': 'tracelake-sink', '__connect.errors.stage': stage,
          '__connect.errors.exception.class.name': err.code ?? err.name, '__connect.errors.exception.message': err.message,
        },
      }],
    });
    this.stats.deadLettered++;
    this.metrics?.deadLettered.inc();
    this.log.warn({ topic, partition, offset, stage, code: err.code }, 'record sent to the dead-letter topic');
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
    // one table per topic, as the connector writes; the tables the curated views take their rows from get the
    // warehouse first
    for (const events of batch.byTable().values()) {
      rows += await withStatementPriority(this.views?.rowsFrom(events[0]!.table) ? PRIORITY.views : PRIORITY.tables, () => this.mergeTable(events));
    }
    fault('after-merge'); // Delta has the batch, Kafka offsets are not committed yet
    if (batch.epoch !== this.batches.currentEpoch || this.restarting) {
      // a rebalance or a consumer restart came while it merged: its partitions may have another owner, who
      // reads the batch again from the committed offsets — and replays change nothing
      this.log.info({ topic, events: batch.events.length }, 'offsets not committed: the consumer was reassigned while the batch merged; it will be replayed (idempotent)');
      return;
    }
    try {
      await this.consumer!.commitOffsets(batch.commits());
    } catch (err) {
      if (!lostGeneration(err)) throw err;
      // the group moved on (this member was evicted or a rebalance began): the batch is in Delta but its
      // offsets are not committed; whoever owns the partitions next replays it, and replays change nothing
      this.metrics?.errors.inc({ code: 'COMMIT_REBALANCED' });
      this.log.warn({ topic, err: (err as Error).message, events: batch.events.length }, 'offsets not committed: the consumer group rebalanced; the batch will be replayed (idempotent)');
      return;
    }
    const ms = Date.now() - started;
    this.stats.batches++;
    this.stats.rowsMerged += rows;
    this.stats.lastMergeMs = ms;
    this.metrics?.batches.inc();
    this.metrics?.batchSeconds.observe(ms / 1000);
    this.metrics?.lastCommitAt.set(Date.now() / 1000);
    this.log.debug({ topic, events: batch.events.length, rows, waitedMs: started - (batch.firstAt ?? started), ms }, 'batch merged and committed');
    // not waited for: the lane is free for its next batch while the views are checked (they wait for a session)
    void this.ensureViews();
  }

  /** MERGEs one table's events; a target dropped behind the sink's back is created again, once. */
  private async mergeTable(events: TableEvent[]): Promise<number> {
    try {
      return await this.mergeTableOnce(events);
    } catch (err) {
      if (!isTableMissing(err)) throw err;
      const { schema, table } = events[0]!;
      this.metrics?.errors.inc({ code: 'TABLE_DROPPED' });
      this.log.warn({ table: `${schema}.${table}`, err: (err as Error).message },
        'the Delta table was dropped outside tracelake: creating it again; rows merged before the drop are gone — re-snapshot the table (connector: POST /tables/<schema.table>/snapshot) to restore them');
      this.tableManager!.forget(schema, table);
      return this.mergeTableOnce(events);
    }
  }

  private async mergeTableOnce(events: TableEvent[]): Promise<number> {
    const first = events[0]!;
    const columns = new Map<string, ColumnDef>();
    for (const e of events) for (const c of e.columns) if (!columns.has(c.field)) columns.set(c.field, c);
    const keyFields = events.find((e) => e.keyFields.length > 0)?.keyFields ?? [];
    const target = await this.retrying(`prepare ${first.schema}.${first.table}`,
      () => this.tableManager!.ensure(first.schema, first.table, [...columns.values()], keyFields));
    const plan = { target: target.layout.target, tombstones: target.layout.tombstones, staged: target.layout.staged, columns: target.columns, deleteMode: target.deleteMode,
      maxStatementBytes: this.cfg.batching.maxStatementBytes, maxStatementRows: this.cfg.batching.maxStatementRows };
    const folded = foldBatch(events);
    const setup = [
      ...(folded.truncateAt ? [planTruncate(plan, folded.truncateAt)] : []),
      ...planTombstones(plan, folded.rows),
    ];
    for (const sql of setup) {
      await this.retrying(`prepare ${target.layout.target}`, () => this.wh!.query(sql));
      await this.heartbeat().catch(() => undefined);
    }
    const started = Date.now();
    const rejected = await this.applyRows(plan, folded.rows, target.layout.target);
    if (rejected.length > 0) await this.rejectRows(rejected);
    const merged = folded.rows.length - rejected.length;
    const name = `${first.schema}.${first.table}`;
    const now = Date.now();
    const p = this.progress.get(name) ?? { rowsMerged: 0 };
    p.rowsMerged += merged;
    p.lastMergeAt = new Date(now).toISOString();
    p.lastMergeMs = now - started;
    this.progress.set(name, p);
    if (this.metrics) {
      this.metrics.rowsMerged.inc({ table: name }, merged);
      this.metrics.mergeSeconds.observe({ table: name }, (now - started) / 1000);
      for (const r of folded.rows) if (r.events.at(-1)?.op !== 'r') this.metrics.freshness.observe(Math.max(0, now - Number(r.sourceTsMs)) / 1000);
    }
    return merged;
  }

  /**
   * MERGEs `rows`; when the warehouse rejects a statement for a reason other than its availability, halves
   * the rows until the rejected ones are found (every MERGE is idempotent, so re-applying a half is safe).
   * Returns the rejected rows with the warehouse's error.
   */
  private async applyRows(plan: TablePlanInput, rows: FoldedRow[], target: string): Promise<Array<{ row: FoldedRow; err: Error }>> {
    if (rows.length === 0) return [];
    try {
      for (const sql of planMerges(plan, rows)) {
        await this.retrying(`merge into ${target}`, () => this.wh!.query(sql));
        await this.heartbeat().catch(() => undefined);
      }
      return [];
    } catch (err) {
      if (isTransient(err) || isTableMissing(err)) throw err;
      if (rows.length === 1) return [{ row: rows[0]!, err: err as Error }];
      const half = Math.ceil(rows.length / 2);
      return [...await this.applyRows(plan, rows.slice(0, half), target), ...await this.applyRows(plan, rows.slice(half), target)];
    }
  }

  /** Rows the warehouse refused: to the dead-letter topic (tolerance all), or stop naming the record. */
  private async rejectRows(rejected: Array<{ row: FoldedRow; err: Error }>): Promise<void> {
    const first = rejected[0]!;
    const ev = first.row.events.at(-1)!;
    if (this.cfg.errors.tolerance === 'none' || !this.dlq) {
      throw new TracelakeError(`the warehouse rejected the change at ${ev.topic}[${ev.partition}]@${ev.offset}: ${first.err.message}`, {
        code: 'POISON_RECORD', cause: first.err,
        remedy: 'fix the target table (constraint, type) or the value at the source; errors.tolerance: all routes such rows to the dead-letter topic',
      });
    }
    for (const { row, err } of rejected) {
      for (const e of row.events) await this.deadLetter(e.topic, e.partition, e.offset, e.raw, 'TASK_PUT', err as Error & { code?: string });
    }
  }

  /** Retries warehouse trouble with backoff (status RETRYING); other errors go up. */
  private async retrying<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1, delay = 500; ; attempt++, delay = Math.min(delay * 2, 30_000)) {
      try {
        const out = await fn();
        if (this.status === 'RETRYING') this.status = 'RUNNING';
        return out;
      } catch (err) {
        if (!isTransient(err) || this.stopping) throw err;
        this.status = 'RETRYING';
        this.metrics?.retries.inc();
        this.log.warn({ what, attempt, retryInMs: delay, err: (err as Error).message }, 'warehouse unavailable; retrying');
        const until = Date.now() + delay;
        while (Date.now() < until && !this.stopping) {
          await this.heartbeat().catch(() => undefined);
          await sleep(Math.min(3000, until - Date.now()));
        }
      }
    }
  }
}

/** The consumer crashed because no broker answered (as opposed to a record or an authorization problem). */
export function kafkaUnreachable(err: unknown): boolean {
  for (let e = err as { name?: string; message?: string; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (e.name === 'KafkaJSConnectionError' || e.name === 'KafkaJSNumberOfRetriesExceeded' || e.name === 'KafkaJSBrokerNotFound'
      || /Connection error|ECONNREFUSED|ECONNRESET|ETIMEDOUT|Connection timeout|broker not found|Closed connection/i.test(e.message ?? '')) return true;
  }
  return false;
}

/** A schema look-up found no registry answer within its retries (not the record's fault). */
export function registryUnavailable(err: unknown): boolean {
  return err instanceof TracelakeError && err.code === 'REGISTRY_UNAVAILABLE';
}

/** The statement failed because its target (or tombstone) table does not exist. */
export function isTableMissing(err: unknown): boolean {
  return /TABLE_OR_VIEW_NOT_FOUND|DELTA_TABLE_NOT_FOUND|Table or view not found/i.test(`${(err as Error)?.message ?? ''}`);
}

/** A commit refused because this member's group generation is over (evicted, or a rebalance started). */
export function lostGeneration(err: unknown): boolean {
  const types = ['UNKNOWN_MEMBER_ID', 'REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'FENCED_INSTANCE_ID'];
  const e = err as { type?: string; cause?: { type?: string }; message?: string };
  return types.includes(e.type ?? '') || types.includes(e.cause?.type ?? '')
    || /coordinator is not aware of this member|group is rebalancing|generation/i.test(e.message ?? '');
}

/** Network failures and 5xx/429 answers: the warehouse may come back. SQL errors are not transient. */
export function isTransient(err: unknown): boolean {
  if (err instanceof TracelakeError) return err.retriable;
  // Delta's optimistic concurrency (its ConcurrentModificationException family): another writer — a second
  // sink replica during a rebalance — committed to the table first, changed its data, metadata or protocol
  // (creating it with clustering); every statement the sink runs is idempotent, so running it again is safe
  // (named exactly: java.util.ConcurrentModificationException is an engine bug, not a conflict to retry)
  if (/DELTA_CONCURRENT_|DELTA_METADATA_CHANGED|DELTA_PROTOCOL_CHANGED|\b(Concurrent(Append|DeleteRead|DeleteDelete|Transaction|Write)|MetadataChanged|ProtocolChanged)Exception/.test(`${(err as Error)?.message ?? ''}`)) return true;
  // the warehouse ran the statement and refused it: its message may contain row values, never retry on it
  if ((err as Error)?.name === 'WarehouseStatementError' || (err as { errorCode?: string })?.errorCode === 'ERROR') return false;
  const text = `${(err as Error)?.name ?? ''} ${(err as Error)?.message ?? String(err)} ${(err as { code?: string })?.code ?? ''}`;
  return /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|EPIPE|socket hang up|network|fetch failed|\b50[0234]\b|\b429\b|unavailable|starting|RetryError|timed? ?out/i.test(text);
}
