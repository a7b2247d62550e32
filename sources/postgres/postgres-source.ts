// The connector: validates the source, takes the snapshot the mode asks for, then streams the slot into
// Kafka, reconnecting with backoff, until stopped or a non-retriable error (state FAILED, with the reason).
import pg from 'pg';
import type { Logger } from 'pino';
import type { ConnectorConfig } from '../../connector/src/config.ts';
import { ChangeDispatcher, type CapturedTable } from '../../emitter/emitter.ts';
import { KafkaPublisher } from '../../emitter/kafka/publisher.ts';
import { StateStore } from '../../emitter/kafka/state-store.ts';
import { ReplicationStream, TEXT_RENDERING_OPTIONS } from './replication-stream.ts';
import { tableInfo, TypeCatalog, type TableInfo } from './catalog.ts';
import { isConnectionLoss } from './connection-loss.ts';
import { assertSlotUsable, checkServer, createSlot, dropSlot, ensurePublication, qualifiedIdent, slotState, type ExportedSlot } from './slot.ts';
import { beginSnapshot, blockLayout, blockRanges, readChunks, readRangesInParallel } from './snapshot-reads.ts';
import { createEncoder, type Encoder } from '../../emitter/encode/encoder.ts';
import { SchemaRegistry } from '../../schemas/src/registry.ts';
import { TracelakeError } from '../../schemas/src/errors.ts';
import { formatLsn, parseLsn } from '../../schemas/src/lsn.ts';
import { topicName } from '../../schemas/src/envelope.ts';
import { LANGFUSE_TRACE_TABLES } from '../../schemas/src/platforms.ts';
import { presetDrift } from './preset-schemas.ts';
import { captureList } from './capture-list.ts';
import { fault } from '../../runtime/faults.ts';
import { Gate } from '../../runtime/gate.ts';
import { ConflictError, type TableStatus, type Worker } from '../../runtime/supervisor.ts';
import type { ConnectorMetrics } from '../../connector/src/metrics.ts';

/** RUNNING = streaming; STANDBY = another process streams the slot and this one waits for it. */
export type ConnectorStatus = 'STARTING' | 'SNAPSHOTTING' | 'RUNNING' | 'STANDBY' | 'STOPPED' | 'FAILED';

interface SnapshotProgress {
  rows: number;
  state: 'PENDING' | 'RUNNING' | 'DONE' | 'FAILED';
  kind: 'initial' | 'requested';
  startedAt?: string;
  finishedAt?: string;
  error?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Connector implements Worker {
  private readonly cfg: ConnectorConfig;
  private readonly log: Logger;
  private db: pg.Client | undefined;
  /** the main connection is connected and has not ended (a restart of Postgres ends it) */
  private dbAlive = false;
  /** Postgres answered once in this run: losing it later is retried, not a failure */
  private connectedOnce = false;
  private stream: ReplicationStream | undefined;
  private dispatcher: ChangeDispatcher | undefined;
  private publisher: KafkaPublisher | undefined;
  private encoder: Encoder | undefined;
  private state: StateStore | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private stopping = false;
  private readonly gate = new Gate();
  private readonly metrics: ConnectorMetrics | undefined;
  private captured: TableInfo[] = [];
  private readonly snapshots = new Map<string, SnapshotProgress>();
  private requested: Promise<void> = Promise.resolve();
  status: ConnectorStatus = 'STARTING';
  failure: Error | undefined;

  constructor(cfg: ConnectorConfig, log: Logger, metrics?: ConnectorMetrics) {
    this.cfg = cfg;
    this.log = log;
    this.metrics = metrics;
  }

  pause(): void {
    this.gate.close();
  }

  resume(): void {
    this.gate.open();
  }

  phase(): string {
    return this.status === 'RUNNING' ? 'STREAMING' : this.status;
  }

  tables(): TableStatus[] {
    const failed = this.status === 'FAILED';
    return this.captured.map((t) => {
      const name = `${t.schema}.${t.table}`;
      const snap = this.snapshots.get(name);
      const state = failed ? 'FAILED' : this.gate.closed ? 'PAUSED' : snap?.state === 'RUNNING' ? 'SNAPSHOTTING' : this.status === 'RUNNING' ? 'RUNNING' : this.status;
      return { table: name, state, events: this.dispatcher?.tableEvents.get(name) ?? 0, ...(snap ? { snapshot: snap } : {}) };
    });
  }

  /**
   * A Postgres connection. A connection the server ends (a restart, a terminated backend) is reported by
   * the query that uses it next, where the reconnect logic is; the 'error' event must not crash the process.
   */
  private client(applicationName = 'tracelake-connector'): pg.Client {
    const c = new pg.Client({ ...this.pgConfig(), application_name: applicationName });
    c.on('error', (err) => this.log.warn({ err: err.message, connection: applicationName }, 'postgres connection lost'));
    return c;
  }

  private pgConfig(): pg.ClientConfig {
    return { connectionString: this.cfg.source.url, options: TEXT_RENDERING_OPTIONS, application_name: 'tracelake-connector' };
  }

  /**
   * Runs until stop() (resolves) or a non-retriable error (rejects; status FAILED). Losing Postgres after
   * it once answered (a restart or failover, during the snapshot or start-up as much as while streaming)
   * is not a failure: everything is closed and the run starts over once it is back, from the slot's
   * confirmed position (a snapshot cut short is taken again), like Kafka Connect restarting a task.
   */
  async run(): Promise<void> {
    try {
      for (let delay = 1000; ; delay = Math.min(delay * 2, 30_000)) {
        const begun = Date.now();
        try {
          await this.runInner();
          break;
        } catch (err) {
          if (this.stopping || !this.connectedOnce || !(await this.postgresLost(err))) throw err;
          if (Date.now() - begun > 60_000) delay = 1000; // a new outage after a good run starts the backoff over
          this.metrics?.errors.inc({ code: 'PG_CONNECTION_LOST' });
          this.log.warn({ err: (err as Error).message, during: this.status, retryInMs: delay }, 'lost Postgres; starting over once it is back (nothing past the slot\'s confirmed position was acknowledged)');
          await this.cleanup();
          for (const until = Date.now() + delay; Date.now() < until && !this.stopping;) await sleep(100);
          if (this.stopping) break;
        }
      }
      this.status = 'STOPPED';
    } catch (err) {
      if (this.stopping) {
        this.status = 'STOPPED';
        return;
      }
      this.status = 'FAILED';
      this.failure = err as Error;
      const e = err as Partial<TracelakeError>;
      this.metrics?.errors.inc({ code: e.code ?? 'UNEXPECTED' });
      this.log.error({ err, code: e.code, remedy: e.remedy }, 'connector failed');
      throw err;
    } finally {
      await this.cleanup();
    }
  }

  /** Graceful: what was received is sent to Kafka and confirmed to the slot, then the stream ends. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.gate.open();
    await this.dispatcher?.flush().catch(() => undefined); // a failed send is not confirmed: replayed on the next start
    await this.stream?.stop();
  }

  /** `err` is Postgres going away, and the main connection did go (not, say, Kafka refusing a connection). */
  private async postgresLost(err: unknown): Promise<boolean> {
    if (!isConnectionLoss(err)) return false;
    // the error may have come from another connection first: does the main one still answer?
    return !(await this.mainAnswers());
  }

  /** The main connection answers a query within 5 s (a silently dropped one would never answer). */
  private async mainAnswers(): Promise<boolean> {
    if (!this.dbAlive || !this.db) return false;
    let timer: NodeJS.Timeout | undefined;
    const answered = await Promise.race([
      this.db.query('SELECT 1').then(() => true, () => false),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 5000))),
    ]);
    clearTimeout(timer);
    return answered;
  }

  /** A connected main connection; its end (a server restart, a terminated backend) is noted in dbAlive. */
  private async connectDb(): Promise<pg.Client> {
    const c = this.client();
    c.once('end', () => {
      if (this.db === c) this.dbAlive = false;
    });
    try {
      await c.connect();
    } catch (err) {
      // node-postgres never settles a query sent to a client whose connect failed: never keep one (and do
      // not wait for its end either, which a half-opened socket may never report)
      void c.end().catch(() => undefined);
      throw err;
    }
    this.db = c;
    this.dbAlive = true;
    this.connectedOnce = true;
    return c;
  }

  private async runInner(): Promise<void> {
    const { source, kafka } = this.cfg;
    this.status = 'STARTING';
    this.db = await this.connectDb().catch((err: Error) => {
      const tls = /certificate|SSL|TLS|self.signed/i.test(err.message);
      throw new TracelakeError(`cannot connect to Postgres: ${err.message}`, {
        code: 'PG_UNREACHABLE', cause: err,
        remedy: tls
          ? 'the server certificate was not accepted: check sslrootcert in source.url (the CA that signed the server certificate) and that the host name matches it (sslmode=verify-full)'
          : 'check source.url (host, port, database, user, password) and that pg_hba.conf admits the connector',
      });
    });
    await checkServer(this.db);
    const tables = await this.describeTables(this.db);
    this.captured = tables;
    if (source.platform === 'langfuse') await this.reportLangfuseGeneration(this.db, tables);
    if (source.platform !== 'custom') await this.reportPresetDrift(this.db, tables);
    await ensurePublication(this.db, source.publication.name, tables.map((t) => [t.schema, t.table]), source.publication.autocreate);

    const registry = new SchemaRegistry(this.cfg.registry.url, this.cfg.registry);
    this.publisher = new KafkaPublisher({
      connection: kafka, clientId: 'tracelake-connector', partitions: kafka.partitions,
      replicationFactor: kafka.replicationFactor, topicConfig: kafka.topicConfig,
      maxMessageBytes: kafka.maxMessageBytes, compression: kafka.compression,
    });
    await this.publisher.connect();
    this.state = new StateStore(kafka, kafka.stateTopic);
    this.stream = new ReplicationStream({
      connection: { connectionString: source.url, application_name: 'tracelake-connector' },
      slot: source.slot.name, publications: [source.publication.name], statusIntervalMs: source.statusIntervalMs,
    });
    const stream = this.stream;
    this.encoder = createEncoder(
      { source: { name: kafka.topicPrefix, db: this.db.database ?? '' }, tombstonesOnDelete: kafka.tombstonesOnDelete, limits: { ...this.cfg.limits, deadLetter: this.deadLetterTables() } },
      { workerThread: this.cfg.encoder.workerThread },
    );
    this.dispatcher = new ChangeDispatcher(
      {
        topicPrefix: kafka.topicPrefix, mapping: { decimalMode: source.decimalMode, unknownTypes: source.unknownTypes },
        tombstonesOnDelete: kafka.tombstonesOnDelete, keyColumns: source.keyColumns,
        maxBatchMessages: this.cfg.batching.maxMessages, maxBatchBytes: this.cfg.batching.maxBytes, lingerMs: this.cfg.batching.lingerMs,
        deadLetterTopic: this.deadLetterTopic(),
      },
      () => this.db!, registry, this.publisher, this.encoder,
      (lsn) => stream.confirm(lsn),
      (handling = 0) => stream.received <= stream.handled + handling,
      (err) => stream.abort(err),
      this.metrics && {
        event: (table, op) => this.metrics!.countEvent(table, op),
        transaction: () => this.metrics!.transactions.inc(),
        acked: (messages, commitTimeUs, durableLsn) => {
          this.metrics!.batchesSent.inc();
          this.metrics!.messagesSent.inc(messages);
          this.metrics!.durableLsn.set(Number(durableLsn));
          this.metrics!.lastEventAt.set(Date.now() / 1000);
          if (commitTimeUs !== null) this.metrics!.behindSource.observe(Math.max(0, Date.now() - Number(commitTimeUs / 1000n)));
        },
        inFlight: (n) => this.metrics!.inFlight.set(n),
        backpressure: () => this.metrics!.backpressureWaits.inc(),
        deadLettered: (table) => {
          this.metrics!.errors.inc({ code: 'ROW_TOO_LARGE' });
          this.log.warn({ table, topic: this.deadLetterTopic() }, 'a row past the size ceiling was sent to the dead-letter topic instead of its change');
        },
      },
    );

    await this.declareTables(tables);

    const slotName = source.slot.name;
    const mode = source.snapshot.mode;
    let slot = await slotState(this.db, slotName);
    const done = await this.state.read(slotName);
    if (mode === 'initial_only') {
      await this.snapshot(tables, { temporary: true });
      return;
    }
    let needSnapshot = false;
    // a slot behind the point its own snapshot was read at was dropped and created again: changes in between are lost
    const recreated = !!done && slot.exists && slot.confirmedFlushLsn !== null && slot.confirmedFlushLsn < parseLsn(done.snapshotLsn);
    if (mode === 'initial' || mode === 'when_needed') {
      if (!done) needSnapshot = true; // never finished (or crashed mid-snapshot): start it over
      else if (!slot.exists || slot.walStatus === 'lost' || recreated) {
        if (mode === 'initial') {
          throw new TracelakeError(`slot ${slotName} is ${recreated ? `behind its snapshot position ${done.snapshotLsn} (it was recreated)` : slot.exists ? 'lost' : 'gone'} although its snapshot finished: changes since ${done.snapshotLsn} may be missing`, {
            code: 'SLOT_LOST', remedy: 'restart with source.snapshot.mode when_needed to take a new snapshot (the sink absorbs the replay)',
          });
        }
        needSnapshot = true;
      }
    }
    if (needSnapshot) {
      if (slot.exists && slot.activePid) throw new TracelakeError(`slot ${slotName} is in use by process ${slot.activePid}`, { code: 'SLOT_BUSY', remedy: 'stop the other connector first' });
      if (!done && slot.exists && slot.walStatus !== 'lost' && slot.confirmedFlushLsn !== null) {
        // a snapshot cut short (a crash): rows it already sent may have changed or gone since. Keep the slot —
        // its stream from its creation point carries those changes and deletes — and read the tables again at a
        // new exported snapshot; the sink orders both by position, as for a snapshot requested while streaming
        this.log.info({ slot: slotName, streamFrom: formatLsn(slot.confirmedFlushLsn) }, 'keeping the slot of an unfinished snapshot and taking the snapshot again');
        await this.snapshot(tables, { temporary: true, completesFrom: slot.confirmedFlushLsn });
      } else {
        if (slot.exists) {
          this.log.info({ slot: slotName }, 'dropping the slot to take a new snapshot');
          await dropSlot(this.db, slotName);
        }
        await this.snapshot(tables, { temporary: false });
      }
    } else if (!slot.exists) {
      this.log.info({ slot: slotName }, 'creating replication slot (no snapshot)');
      await createSlot({ connectionString: source.url }, slotName, { exportSnapshot: false });
    }
    slot = await slotState(this.db, slotName);
    assertSlotUsable(slotName, slot);
    this.startHeartbeat();
    await this.streamLoop();
  }

  /** Compares the live preset tables with the schemas checked in under schemas/avro/<platform>/. */
  private async reportPresetDrift(db: pg.Client, tables: TableInfo[]): Promise<void> {
    const { platform, decimalMode, unknownTypes, keyColumns } = this.cfg.source;
    for (const drift of await presetDrift(db, platform, tables, { decimalMode, unknownTypes }, keyColumns)) {
      if (drift.added.length > 0) this.log.info({ table: drift.table, added: drift.added }, `${platform} added columns since the checked-in schema: captured as a schema evolution`);
      if (drift.removed.length > 0 || drift.retyped.length > 0) {
        this.log.warn({ table: drift.table, removed: drift.removed, retyped: drift.retyped }, `${platform} table differs from the checked-in schema`);
      }
    }
  }

  /** Langfuse: say which generation the database is, and what that means for trace data. */
  private async reportLangfuseGeneration(db: pg.Client, present: TableInfo[]): Promise<void> {
    const have = new Set(present.map((t) => t.table));
    const traceTables = LANGFUSE_TRACE_TABLES.filter((t) => have.has(t));
    if (traceTables.length === LANGFUSE_TRACE_TABLES.length) {
      const { rows } = await db.query(`SELECT 1 FROM ${qualifiedIdent(this.cfg.source.schema, 'observations')} LIMIT 1`);
      this.log.info({ generation: 'v2 (or v3 with legacy tables)', observations: rows.length > 0 ? 'present' : 'empty' },
        'Langfuse keeps traces, observations and scores in Postgres here: they are captured');
      if (rows.length === 0) this.log.warn('the observations table is empty: on Langfuse v3 trace data lives in ClickHouse and is not captured from Postgres');
    } else {
      this.log.warn({ generation: 'v4 or later' },
        'Langfuse v3/v4 keeps traces, observations and scores in ClickHouse: only the Postgres tables (projects, prompts, datasets, models, …) are captured');
    }
  }

  private async describeTables(db: pg.Client): Promise<TableInfo[]> {
    const out: TableInfo[] = [];
    const { tables, fromPreset, excluded } = captureList(this.cfg.source);
    for (const [t, why] of Object.entries(excluded)) this.log.info({ table: t, reason: why }, 'not captured by the preset');
    for (const qualified of tables) {
      const [schema, table] = qualified.split('.') as [string, string];
      const info = await tableInfo(db, schema, table);
      if (!info && fromPreset) {
        this.log.info({ table: qualified }, 'preset table not in this database version; skipped');
        continue;
      }
      if (!info) {
        throw new TracelakeError(`table ${qualified} does not exist (or is not a table)`, {
          code: 'TABLE_MISSING', remedy: 'check source.tables, and that the connector user can see the table',
        });
      }
      if (info.replicaIdentity === 'nothing') {
        throw new TracelakeError(`table ${qualified} has REPLICA IDENTITY NOTHING: its updates and deletes carry no key`, {
          code: 'REPLICA_IDENTITY', remedy: `ALTER TABLE ${qualified} REPLICA IDENTITY DEFAULT (with a primary key) or FULL, or exclude it`,
        });
      }
      if (info.primaryKey.length === 0 && !this.cfg.source.keyColumns[qualified]) {
        throw new TracelakeError(`table ${qualified} has no primary key`, {
          code: 'MISSING_PRIMARY_KEY', remedy: `add a primary key, or set source.keyColumns["${qualified}"] (and REPLICA IDENTITY FULL or USING INDEX)`,
        });
      }
      out.push(info);
    }
    return out;
  }

  /**
   * Creates the slot (or, `temporary`, a throw-away one) with an exported snapshot, reads every table at it,
   * then records completion: the position from which the slot's stream completes the snapshot — its consistent
   * point, or `completesFrom` when an existing slot streams from an earlier one.
   */
  private async snapshot(tables: TableInfo[], opts: { temporary: boolean; completesFrom?: bigint }): Promise<void> {
    const { source } = this.cfg;
    this.status = 'SNAPSHOTTING';
    const slotName = opts.temporary ? `${source.slot.name}_snapshot_${process.pid}` : source.slot.name;
    const exported = await createSlot({ connectionString: source.url }, slotName, { exportSnapshot: true, temporary: opts.temporary });
    const started = Date.now();
    let rows: number;
    try {
      this.dispatcher!.reset(0n);
      rows = await this.readTables(tables, exported, 'initial');
    } finally {
      await exported.close().catch(() => undefined);
    }
    await this.state!.write(source.slot.name, {
      snapshotLsn: formatLsn(opts.completesFrom ?? exported.consistentPoint), snapshotCompletedAt: new Date().toISOString(), tables: tables.map((t) => `${t.schema}.${t.table}`),
    });
    this.log.info({ rows, ms: Date.now() - started, lsn: formatLsn(exported.consistentPoint) }, 'snapshot completed');
  }

  /**
   * Reads `tables` at an exported snapshot and sends every row as a read event positioned at the
   * snapshot's consistent point (the sink orders it against streamed changes by that position).
   * Returns the rows read.
   */
  private async readTables(tables: TableInfo[], exported: ExportedSlot, kind: SnapshotProgress['kind']): Promise<number> {
    const { source } = this.cfg;
    const readers = Array.from({ length: source.snapshot.readers }, (_, i) => this.client(`tracelake-snapshot-${i + 1}`));
    const reader = readers[0]!;
    const started = Date.now();
    const startedAt = new Date(started).toISOString();
    let seq = 0n;
    for (const t of tables) this.snapshots.set(`${t.schema}.${t.table}`, { rows: 0, state: 'PENDING', kind });
    this.metrics?.snapshotRunning.set(1);
    let remaining = tables.length;
    this.metrics?.snapshotTablesRemaining.set(remaining);
    let current: SnapshotProgress | undefined;
    try {
      // every reader in a transaction at the one exported snapshot: together they see exactly one state
      await Promise.all(readers.map(async (r) => {
        await r.connect();
        await beginSnapshot(r, exported.snapshotName!);
      }));
      const catalog = new TypeCatalog(() => reader);
      for (const t of tables) {
        const name = `${t.schema}.${t.table}`;
        current = { rows: 0, state: 'RUNNING', kind, startedAt };
        this.snapshots.set(name, current);
        const keys = source.keyColumns[name] ?? t.primaryKey;
        const captured = await this.registerTable(t, catalog);
        const src = { schema: t.schema, table: t.table, columns: t.columns.map((c) => c.name), keyColumns: keys };
        const layout = await blockLayout(reader, src);
        const estimate = layout.estimatedRows;
        const chunks = layout.splittable
          ? readRangesInParallel(readers, src, blockRanges(layout, source.snapshot.chunkRows))
          : readChunks(reader, src, source.snapshot.chunkRows);
        for await (const chunk of chunks) {
          if (this.gate.closed) await this.gate.wait();
          await this.dispatcher!.read(captured, chunk, { commitLsn: exported.consistentPoint, seq, commitTimeUs: BigInt(started) * 1000n });
          seq += BigInt(chunk.length);
          current.rows += chunk.length;
          this.metrics?.snapshotRows.inc({ table: name }, chunk.length);
          const secs = (Date.now() - started) / 1000;
          this.log.info({
            table: name, rows: current.rows, estimatedRows: estimate, percent: estimate > 0 ? Math.min(100, Math.round((current.rows / estimate) * 100)) : undefined,
            rowsPerSecond: secs > 0 ? Math.round(Number(seq) / secs) : undefined,
          }, 'snapshot progress');
          fault('snapshot-chunk');
        }
        current.state = 'DONE';
        current.finishedAt = new Date().toISOString();
        this.metrics?.snapshotTablesRemaining.set(--remaining);
      }
      await this.dispatcher!.flush();
      await Promise.all(readers.map((r) => r.query('COMMIT')));
    } catch (err) {
      if (current && current.state === 'RUNNING') Object.assign(current, { state: 'FAILED', error: (err as Error).message });
      throw err;
    } finally {
      this.metrics?.snapshotRunning.set(0);
      await Promise.all(readers.map((r) => r.end().catch(() => undefined)));
    }
    return Number(seq);
  }

  /** A captured table's topic and schemas, as its rows will be sent (the dispatcher registers each once). */
  private async registerTable(t: TableInfo, catalog: TypeCatalog): Promise<CapturedTable> {
    const { source } = this.cfg;
    const types = await catalog.resolve(t.columns.map((c) => c.typeOid));
    return this.dispatcher!.register({
      schema: t.schema, table: t.table, columns: t.columns.map(({ name, typeOid, typeMod }) => ({ name, typeOid, typeMod })),
      keyColumns: source.keyColumns[`${t.schema}.${t.table}`] ?? t.primaryKey, types: [...types.values()],
      mapping: { decimalMode: source.decimalMode, unknownTypes: source.unknownTypes },
    });
  }

  /** Where rows past the size ceiling go (limits.deadLetterTopic). */
  private deadLetterTopic(): string {
    return this.cfg.limits.deadLetterTopic ?? `${this.cfg.kafka.topicPrefix}.dead-letter`;
  }

  /** The tables whose rows past the size ceiling are dead-lettered: limits.oversize, or the table's own choice. */
  private deadLetterTables(): string[] {
    const { oversize, tables } = this.cfg.limits;
    const captured = (this.captured ?? []).map((t) => `${t.schema}.${t.table}`);
    return [...new Set([...captured, ...Object.keys(tables)])].filter((t) => (tables[t]?.oversize ?? oversize) === 'dead-letter');
  }

  /**
   * Every captured table's topic is created (all in one request) and its schemas registered before the first
   * row is read: a sink starting alongside finds all change topics at once — one subscription, no
   * resubscription as topics appear one by one — and can prepare the Delta tables from the registered schemas
   * while the snapshot is read.
   */
  private async declareTables(tables: TableInfo[]): Promise<void> {
    const { kafka } = this.cfg;
    const topics = tables.map((t) => topicName(kafka.topicPrefix, t.schema, t.table));
    if (this.deadLetterTables().length > 0) topics.push(this.deadLetterTopic());
    await this.publisher!.ensureTopics(topics);
    const catalog = new TypeCatalog(() => this.db!);
    for (const t of tables) await this.registerTable(t, catalog);
  }

  /**
   * Re-reads one captured table while streaming goes on (like Debezium's execute-snapshot signal): a
   * temporary slot exports a snapshot, and the table's rows are sent as read events at its consistent
   * point, so the sink keeps whichever of a row's snapshot and streamed versions is newer.
   */
  requestSnapshot(table: string): SnapshotProgress {
    const info = this.captured.find((t) => `${t.schema}.${t.table}` === table);
    if (!info) {
      throw new TracelakeError(`table ${table} is not captured by this connector`, {
        code: 'NOT_FOUND', remedy: `one of: ${this.captured.map((t) => `${t.schema}.${t.table}`).join(', ') || '(none yet)'}`,
      });
    }
    if (this.status !== 'RUNNING') throw new ConflictError(`cannot snapshot ${table} while the connector is ${this.status}`, 'wait until it streams (GET /status)');
    const running = this.snapshots.get(table);
    if (running && (running.state === 'RUNNING' || running.state === 'PENDING')) throw new ConflictError(`a snapshot of ${table} is already ${running.state}`, 'watch GET /status');
    const progress: SnapshotProgress = { rows: 0, state: 'PENDING', kind: 'requested' };
    this.snapshots.set(table, progress);
    this.requested = this.requested.then(() => this.runRequestedSnapshot(info)).catch((err: unknown) => {
      const p = this.snapshots.get(table);
      if (p) Object.assign(p, { state: 'FAILED', error: (err as Error).message, finishedAt: new Date().toISOString() });
      this.log.error({ table, err: (err as Error).message }, 'requested snapshot failed; request it again');
    });
    return progress;
  }

  private async runRequestedSnapshot(t: TableInfo): Promise<void> {
    const name = `${t.schema}.${t.table}`;
    const generation = this.dispatcher!.generation;
    this.log.info({ table: name }, 'requested snapshot started');
    const exported = await createSlot({ connectionString: this.cfg.source.url }, `${this.cfg.source.slot.name}_rs_${process.pid}`, { exportSnapshot: true, temporary: true });
    try {
      const rows = await this.readTables([t], exported, 'requested');
      // a reconnect of the stream in between drops what was buffered: the snapshot is incomplete then
      if (this.dispatcher!.generation !== generation) throw new Error('the replication stream reconnected during the snapshot');
      this.log.info({ table: name, rows, lsn: formatLsn(exported.consistentPoint) }, 'requested snapshot completed');
    } finally {
      await exported.close().catch(() => undefined);
    }
  }

  private startHeartbeat(): void {
    const every = this.cfg.source.heartbeatIntervalMs;
    if (every <= 0) return;
    this.heartbeat = setInterval(() => {
      this.db?.query(`SELECT pg_logical_emit_message(false, 'tracelake_heartbeat', '')`).catch((err: unknown) => {
        this.log.warn({ err }, 'heartbeat failed');
      });
    }, every);
  }

  private async streamLoop(): Promise<void> {
    const { source } = this.cfg;
    let backoffMs = 500;
    while (!this.stopping) {
      const slot = await slotState(this.db!, source.slot.name);
      assertSlotUsable(source.slot.name, slot);
      if (!slot.exists) {
        throw new TracelakeError(`replication slot ${source.slot.name} disappeared`, {
          code: 'SLOT_LOST', remedy: 'someone dropped the slot; restart with source.snapshot.mode when_needed',
        });
      }
      if (slot.activePid !== null) {
        if (source.slot.whenBusy === 'fail') {
          throw new TracelakeError(`slot ${source.slot.name} is streamed by process ${slot.activePid}`, {
            code: 'SLOT_BUSY', remedy: 'another connector instance owns the slot; stop it, or set slot.whenBusy: wait to stand by',
          });
        }
        if (this.status !== 'STANDBY') this.log.info({ pid: slot.activePid }, 'slot is in use by another process; standing by');
        this.status = 'STANDBY';
        await sleep(2000);
        continue;
      }
      const start = slot.confirmedFlushLsn ?? 0n;
      this.dispatcher!.reset(start);
      this.status = 'RUNNING';
      this.metrics?.connected.set(1);
      this.log.info({ slot: source.slot.name, from: formatLsn(start) }, 'streaming');
      const begun = Date.now();
      try {
        await this.stream!.run(start, {
          onMessage: async (lsn, msg) => {
            if (this.gate.closed) await this.gate.wait(); // paused: flow control stops reading the socket; status updates go on
            return this.dispatcher!.onMessage(lsn, msg);
          },
          onKeepalive: (lsn) => this.dispatcher!.onKeepalive(lsn),
        });
      } catch (err) {
        this.metrics?.connected.set(0);
        if (this.stopping) break;
        const e = err as Partial<TracelakeError> & { code?: string };
        this.metrics?.errors.inc({ code: e.code ?? 'REPLICATION_INTERRUPTED' });
        if (e instanceof TracelakeError && !e.retriable) throw err;
        if (e.code === '55006') { // object_in_use: the slot was taken between our check and START_REPLICATION
          this.log.info('slot taken by another process; standing by');
        } else {
          this.log.warn({ err: (err as Error).message, retryInMs: backoffMs }, 'replication interrupted; reconnecting');
        }
        if (Date.now() - begun > 30_000) backoffMs = 500;
        await sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, 30_000);
        await this.reconnectDb();
        continue;
      }
    }
  }

  private async reconnectDb(): Promise<void> {
    if (await this.mainAnswers()) return;
    void this.db?.end().catch(() => undefined); // not awaited: a dropped connection may never report its end
    for (let delay = 500; !this.stopping; delay = Math.min(delay * 2, 30_000)) {
      try {
        await this.connectDb();
        return;
      } catch (err) {
        this.log.warn({ err: (err as Error).message, retryInMs: delay }, 'postgres unreachable');
        await sleep(delay);
      }
    }
  }

  private async cleanup(): Promise<void> {
    this.metrics?.connected.set(0);
    clearInterval(this.heartbeat);
    this.dispatcher?.close();
    await this.stream?.stop().catch(() => undefined);
    await this.encoder?.close(); // after the stream: no message arrives for a closed encoder
    await this.publisher?.disconnect();
    await this.state?.close();
    await this.db?.end().catch(() => undefined);
    this.dbAlive = false;
  }
}

