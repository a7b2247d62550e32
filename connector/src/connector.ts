// The connector: validates the source, takes the snapshot the mode asks for, then streams the slot into
// Kafka, reconnecting with backoff, until stopped or a non-retriable error (state FAILED, with the reason).
import pg from 'pg';
import type { Logger } from 'pino';
import type { ConnectorConfig } from './config.ts';
import { ChangeDispatcher, type CapturedTable } from './change-dispatcher.ts';
import { KafkaPublisher } from './kafka/publisher.ts';
import { StateStore } from './kafka/state-store.ts';
import { ReplicationStream, TEXT_RENDERING_OPTIONS } from './postgres/replication-stream.ts';
import { tableInfo, TypeCatalog, type TableInfo } from './postgres/catalog.ts';
import { assertSlotUsable, checkServer, createSlot, dropSlot, ensurePublication, qualifiedIdent, slotState } from './postgres/slot.ts';
import { beginSnapshot, readChunks } from './snapshot.ts';
import { buildTableSchema } from './table-schema.ts';
import { SchemaRegistry } from '../../schemas/src/registry.ts';
import { TracelakeError } from '../../schemas/src/errors.ts';
import { formatLsn, parseLsn } from '../../schemas/src/lsn.ts';
import { LANGFUSE_TRACE_TABLES, PRESETS } from '../../schemas/src/platforms.ts';
import { presetDrift } from './preset-schemas.ts';
import { fault } from '../../runtime/faults.ts';

export type ConnectorStatus = 'STARTING' | 'SNAPSHOTTING' | 'RUNNING' | 'STOPPED' | 'FAILED';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Connector {
  private readonly cfg: ConnectorConfig;
  private readonly log: Logger;
  private db: pg.Client | undefined;
  private stream: ReplicationStream | undefined;
  private dispatcher: ChangeDispatcher | undefined;
  private publisher: KafkaPublisher | undefined;
  private state: StateStore | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private stopping = false;
  status: ConnectorStatus = 'STARTING';
  failure: Error | undefined;

  constructor(cfg: ConnectorConfig, log: Logger) {
    this.cfg = cfg;
    this.log = log;
  }

  private pgConfig(): pg.ClientConfig {
    return { connectionString: this.cfg.source.url, options: TEXT_RENDERING_OPTIONS, application_name: 'tracelake-connector' };
  }

  /** Runs until stop() (resolves) or a non-retriable error (rejects; status FAILED). */
  async run(): Promise<void> {
    try {
      await this.runInner();
      this.status = 'STOPPED';
    } catch (err) {
      if (this.stopping) {
        this.status = 'STOPPED';
        return;
      }
      this.status = 'FAILED';
      this.failure = err as Error;
      const e = err as Partial<TracelakeError>;
      this.log.error({ err, code: e.code, remedy: e.remedy }, 'connector failed');
      throw err;
    } finally {
      await this.cleanup();
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.stream?.stop();
  }

  private async runInner(): Promise<void> {
    const { source, kafka } = this.cfg;
    this.db = new pg.Client(this.pgConfig());
    await this.db.connect();
    await checkServer(this.db);
    const tables = await this.describeTables(this.db);
    if (source.platform === 'langfuse') await this.reportLangfuseGeneration(this.db, tables);
    if (source.platform !== 'custom') await this.reportPresetDrift(this.db, tables);
    await ensurePublication(this.db, source.publication.name, tables.map((t) => [t.schema, t.table]), source.publication.autocreate);

    const registry = new SchemaRegistry(this.cfg.registry.url);
    this.publisher = new KafkaPublisher({
      brokers: kafka.brokers, clientId: 'tracelake-connector', partitions: kafka.partitions,
      replicationFactor: kafka.replicationFactor, topicConfig: kafka.topicConfig,
    });
    await this.publisher.connect();
    this.state = new StateStore(kafka.brokers, kafka.stateTopic);
    this.stream = new ReplicationStream({
      connection: { connectionString: source.url, application_name: 'tracelake-connector' },
      slot: source.slot.name, publications: [source.publication.name], statusIntervalMs: source.statusIntervalMs,
    });
    const stream = this.stream;
    this.dispatcher = new ChangeDispatcher(
      {
        topicPrefix: kafka.topicPrefix, db: this.db.database ?? '', mapping: { decimalMode: source.decimalMode, unknownTypes: source.unknownTypes },
        tombstonesOnDelete: kafka.tombstonesOnDelete, keyColumns: source.keyColumns,
        maxBatchMessages: this.cfg.batching.maxMessages, maxBatchBytes: this.cfg.batching.maxBytes, lingerMs: this.cfg.batching.lingerMs,
      },
      () => this.db!, registry, this.publisher,
      (lsn) => stream.confirm(lsn),
      (handling = 0) => stream.received <= stream.handled + handling,
      (err) => stream.abort(err),
    );

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
      if (slot.exists) {
        if (slot.activePid) throw new TracelakeError(`slot ${slotName} is in use by process ${slot.activePid}`, { code: 'SLOT_BUSY', remedy: 'stop the other connector first' });
        this.log.info({ slot: slotName }, 'dropping the slot of an unfinished snapshot to take it again');
        await dropSlot(this.db, slotName);
      }
      await this.snapshot(tables, { temporary: false });
    } else if (!slot.exists) {
      this.log.info({ slot: slotName }, 'creating replication slot (no snapshot)');
      await createSlot({ connectionString: source.url }, slotName, { exportSnapshot: false });
    }
    slot = await slotState(this.db, slotName);
    assertSlotUsable(slotName, slot);
    this.startHeartbeat();
    await this.streamLoop();
  }

  /** The configured tables, or the platform preset's tables that exist in this database. */
  private captureList(): { tables: string[]; fromPreset: boolean } {
    const { platform, tables, schema } = this.cfg.source;
    if (tables.length > 0 || platform === 'custom') return { tables, fromPreset: false };
    const preset = PRESETS[platform];
    for (const [t, why] of Object.entries(preset.excluded)) this.log.info({ table: `${schema}.${t}`, reason: why }, 'not captured by the preset');
    return { tables: preset.tables.map((t) => `${schema}.${t}`), fromPreset: true };
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
    const { tables, fromPreset } = this.captureList();
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

  /** Creates the slot with an exported snapshot, reads every table at it, then records completion. */
  private async snapshot(tables: TableInfo[], opts: { temporary: boolean }): Promise<void> {
    const { source } = this.cfg;
    this.status = 'SNAPSHOTTING';
    const slotName = opts.temporary ? `${source.slot.name}_snapshot_${process.pid}` : source.slot.name;
    const exported = await createSlot({ connectionString: source.url }, slotName, { exportSnapshot: true, temporary: opts.temporary });
    const reader = new pg.Client({ ...this.pgConfig(), application_name: 'tracelake-snapshot' });
    const started = Date.now();
    let seq = 0n;
    try {
      await reader.connect();
      await beginSnapshot(reader, exported.snapshotName!);
      const catalog = new TypeCatalog(() => reader);
      this.dispatcher!.reset(0n);
      for (const t of tables) {
        const keys = source.keyColumns[`${t.schema}.${t.table}`] ?? t.primaryKey;
        const types = await catalog.resolve(t.columns.map((c) => c.typeOid));
        const schema = buildTableSchema(t.schema, t.table, t.columns, keys, types, { decimalMode: source.decimalMode, unknownTypes: source.unknownTypes });
        const captured: CapturedTable = await this.dispatcher!.register(schema);
        let rows = 0;
        for await (const chunk of readChunks(reader, { schema: t.schema, table: t.table, columns: t.columns.map((c) => c.name), keyColumns: keys }, source.snapshot.chunkRows)) {
          for (const tuple of chunk) {
            await this.dispatcher!.read(captured, tuple, {
              commitLsn: exported.consistentPoint, seq: seq++, lsn: null, txId: null, commitTimeUs: BigInt(started) * 1000n, snapshot: 'true',
            });
          }
          rows += chunk.length;
          this.log.info({ table: `${t.schema}.${t.table}`, rows }, 'snapshot progress');
          fault('snapshot-chunk');
        }
      }
      await this.dispatcher!.flush();
      await reader.query('COMMIT');
    } finally {
      await reader.end().catch(() => undefined);
      await exported.close().catch(() => undefined);
    }
    await this.state!.write(source.slot.name, {
      snapshotLsn: formatLsn(exported.consistentPoint), snapshotCompletedAt: new Date().toISOString(), tables: tables.map((t) => `${t.schema}.${t.table}`),
    });
    this.log.info({ rows: Number(seq), ms: Date.now() - started, lsn: formatLsn(exported.consistentPoint) }, 'snapshot completed');
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
        this.log.info({ pid: slot.activePid }, 'slot is in use by another process; standing by');
        await sleep(2000);
        continue;
      }
      const start = slot.confirmedFlushLsn ?? 0n;
      this.dispatcher!.reset(start);
      this.status = 'RUNNING';
      this.log.info({ slot: source.slot.name, from: formatLsn(start) }, 'streaming');
      const begun = Date.now();
      try {
        await this.stream!.run(start, {
          onMessage: (lsn, msg) => this.dispatcher!.onMessage(lsn, msg),
          onKeepalive: (lsn) => this.dispatcher!.onKeepalive(lsn),
        });
      } catch (err) {
        if (this.stopping) break;
        const e = err as Partial<TracelakeError> & { code?: string };
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
    for (let delay = 500; !this.stopping; delay = Math.min(delay * 2, 30_000)) {
      try {
        await this.db!.query('SELECT 1');
        return;
      } catch {
        await this.db!.end().catch(() => undefined);
        this.db = new pg.Client(this.pgConfig());
        try {
          await this.db.connect();
          return;
        } catch (err) {
          this.log.warn({ err: (err as Error).message, retryInMs: delay }, 'postgres unreachable');
          await sleep(delay);
        }
      }
    }
  }

  private async cleanup(): Promise<void> {
    clearInterval(this.heartbeat);
    this.dispatcher?.close();
    await this.stream?.stop().catch(() => undefined);
    await this.publisher?.disconnect();
    await this.state?.close();
    await this.db?.end().catch(() => undefined);
  }
}
