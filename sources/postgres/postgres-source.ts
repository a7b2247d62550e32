// The Postgres source (sources/source.ts): one run validates the tables, opens the emitter session, declares
// every table, takes the snapshot the mode asks for (snapshot-coordinator.ts), then streams the slot
// (wal-stream.ts). Positions are transaction end LSNs; a position the emitter reports durable is confirmed to
// the slot, and nothing else moves it.
import pg from 'pg';
import type { Logger } from 'pino';
import type { TableInfo } from './catalog.ts';
import { TypeCatalog } from './catalog.ts';
import { isConnectionLoss, isTlsFailure } from './connection-loss.ts';
import { serialQueries } from './serial-queries.ts';
import { PgoutputHandler } from './pgoutput-handler.ts';
import { ReplicationStream, TEXT_RENDERING_OPTIONS } from './replication-stream.ts';
import { assertSlotUsable, checkServer, ensurePublication, slotState } from './slot.ts';
import { SnapshotCoordinator } from './snapshot-coordinator.ts';
import { describeTables, reportPlatform, tableSource } from './source-tables.ts';
import { buildTable } from './record-decoder.ts';
import { startHeartbeat, streamSlot } from './wal-stream.ts';
import type { ChangeSource, SnapshotProgress, SourceStatus, SourceTable } from '../source.ts';
import { openEmitterSession, type EmitterSession } from '../../emitter/emitter-session.ts';
import type { ConnectorConfig } from '../../connector/src/config.ts';
import type { ConnectorMetrics } from '../../connector/src/metrics.ts';
import { CONNECTOR_NAME } from '../../schemas/src/envelope.ts';
import { TracelakeError } from '../../schemas/src/errors.ts';
import { ConflictError } from '../../runtime/supervisor.ts';
import type { Gate } from '../../runtime/gate.ts';
import { Backoff } from '../../runtime/retry.ts';

const RECORD_DECODER = new URL('./record-decoder.ts', import.meta.url).href;

export class PostgresSource implements ChangeSource {
  private readonly cfg: ConnectorConfig;
  private readonly log: Logger;
  private readonly metrics: ConnectorMetrics | undefined;
  private db: pg.Client | undefined;
  /** the main connection is connected and has not ended (a restart of Postgres ends it) */
  private dbAlive = false;
  /** Postgres answered once: losing it later is retried by the connector, not a failure */
  private connectedOnce = false;
  private stream: ReplicationStream | undefined;
  private session: EmitterSession<bigint> | undefined;
  private handler: PgoutputHandler | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private stopping = false;
  private captured: TableInfo[] = [];
  private readonly snapshots: SnapshotCoordinator;
  private readonly gate: Gate;
  status: SourceStatus = 'STARTING';

  constructor(cfg: ConnectorConfig, log: Logger, gate: Gate, metrics?: ConnectorMetrics) {
    this.cfg = cfg;
    this.log = log;
    this.metrics = metrics;
    this.snapshots = new SnapshotCoordinator(cfg.source, {
      log, metrics, gate, db: () => this.db!, client: (name) => this.client(name), handler: () => this.handler!,
      state: () => this.session!.state, snapshotting: () => { this.status = 'SNAPSHOTTING'; },
    });
    this.gate = gate;
  }

  tables(): SourceTable[] {
    return this.captured.map((t) => {
      const name = `${t.schema}.${t.table}`;
      const snapshot = this.snapshots.progress.get(name);
      return { name, events: this.session?.emitter.tableEvents.get(name) ?? 0, ...(snapshot ? { snapshot } : {}) };
    });
  }

  /**
   * A Postgres connection. A connection the server ends (a restart, a terminated backend) is reported by
   * the query that uses it next, where the reconnect logic is; the 'error' event must not crash the process.
   */
  private client(applicationName = 'tracelake-connector'): pg.Client {
    const c = new pg.Client({ connectionString: this.cfg.source.url, options: TEXT_RENDERING_OPTIONS, application_name: applicationName });
    c.on('error', (err) => this.log.warn({ err: err.message, connection: applicationName }, 'postgres connection lost'));
    return c;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.handler?.flush().catch(() => undefined); // a failed send is not confirmed: replayed on the next start
    await this.stream?.stop();
  }

  /** `err` is Postgres going away after it once answered, and the main connection did go (not, say, Kafka refusing a connection). */
  async lost(err: unknown): Promise<string | null> {
    if (this.stopping || !this.connectedOnce || !isConnectionLoss(err)) return null;
    // the error may have come from another connection first: does the main one still answer?
    return (await this.mainAnswers()) ? null : 'PG_CONNECTION_LOST';
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
    const c = serialQueries(this.client());
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

  async run(): Promise<void> {
    const { source } = this.cfg;
    this.status = 'STARTING';
    const db = await this.connectDb().catch((err: Error) => {
      const tls = isTlsFailure(err);
      throw new TracelakeError(`cannot connect to Postgres: ${err.message}`, {
        code: 'PG_UNREACHABLE', cause: err,
        remedy: tls
          ? 'the server certificate was not accepted: check sslrootcert in source.url (the CA that signed the server certificate) and that the host name matches it (sslmode=verify-full)'
          : 'check source.url (host, port, database, user, password) and that pg_hba.conf admits the connector',
      });
    });
    await checkServer(db);
    const tables = await describeTables(db, source, this.log, this.cfg.clickhouse !== undefined);
    this.captured = tables;
    await reportPlatform(db, source, tables, this.log, this.cfg.clickhouse !== undefined);
    await ensurePublication(db, source.publication.name, tables.map((t) => [t.schema, t.table]), source.publication.autocreate);

    this.stream = new ReplicationStream({
      connection: { connectionString: source.url, application_name: 'tracelake-connector' },
      slot: source.slot.name, publications: [source.publication.name], statusIntervalMs: source.statusIntervalMs,
    });
    const stream = this.stream;
    this.session = await openEmitterSession<bigint>(this.cfg, {
      source: { connector: CONNECTOR_NAME, db: db.database ?? '' }, decoder: RECORD_DECODER,
      tables: tables.map((t) => `${t.schema}.${t.table}`),
      onDurable: (lsn) => this.handler!.confirmDurable(lsn),
      onFailure: (err) => stream.abort(err),
      drain: () => this.handler!.drain(),
      positionGauge: Number,
    }, this.log, this.metrics);
    const { emitter } = this.session;
    this.handler = new PgoutputHandler(
      { mapping: { decimalMode: source.decimalMode, unknownTypes: source.unknownTypes }, tombstonesOnDelete: this.cfg.kafka.tombstonesOnDelete, keyColumns: source.keyColumns },
      {
        emitter, db: () => this.db!, streamIdle: (handling = 0) => stream.received <= stream.handled + handling,
        confirm: (lsn) => stream.confirm(lsn), transaction: this.metrics && (() => this.metrics!.transactions.inc()),
      },
    );
    await this.declareTables(tables);
    if (!(await this.snapshots.atStart(tables))) return;
    assertSlotUsable(source.slot.name, await slotState(db, source.slot.name));
    this.heartbeat = startHeartbeat(source, () => this.db, this.log);
    await streamSlot(source, {
      log: this.log, metrics: this.metrics, gate: this.gate, stream, handler: this.handler, db: () => this.db!,
      reconnectDb: () => this.reconnectDb(), status: (s) => { this.status = s; }, stopping: () => this.stopping,
    });
  }

  /**
   * Every captured table's topic is created (all in one request) and its schemas registered before the first
   * row is read (Emitter.declare): a sink starting alongside finds all change topics at once.
   */
  private async declareTables(tables: TableInfo[]): Promise<void> {
    const session = this.session!;
    const catalog = new TypeCatalog(() => this.db!);
    const registrations = [];
    for (const t of tables) {
      const description = await tableSource(t, catalog, this.cfg.source);
      registrations.push({ schema: buildTable(description), description });
    }
    await session.emitter.tables.declare(registrations, session.deadLetterTables.length > 0 ? [session.deadLetterTopic] : []);
  }

  requestSnapshot(table: string): SnapshotProgress {
    const info = this.captured.find((t) => `${t.schema}.${t.table}` === table);
    if (!info) {
      throw new TracelakeError(`table ${table} is not captured by this connector`, {
        code: 'NOT_FOUND', remedy: `one of: ${this.captured.map((t) => `${t.schema}.${t.table}`).join(', ') || '(none yet)'}`,
      });
    }
    if (this.status !== 'RUNNING') throw new ConflictError(`cannot snapshot ${table} while the connector is ${this.status}`, 'wait until it streams (GET /status)');
    const running = this.snapshots.progress.get(table);
    if (running && (running.state === 'RUNNING' || running.state === 'PENDING')) throw new ConflictError(`a snapshot of ${table} is already ${running.state}`, 'watch GET /status');
    return this.snapshots.request(info);
  }

  private async reconnectDb(): Promise<void> {
    if (await this.mainAnswers()) return;
    void this.db?.end().catch(() => undefined); // not awaited: a dropped connection may never report its end
    const backoff = new Backoff({ baseDelayMs: 500, maxDelayMs: 30_000 });
    while (!this.stopping) {
      try {
        await this.connectDb();
        return;
      } catch (err) {
        const delay = backoff.next();
        this.log.warn({ err: (err as Error).message, retryInMs: delay }, 'postgres unreachable');
        await backoff.wait(delay, () => this.stopping);
      }
    }
  }

  async close(): Promise<void> {
    this.metrics?.connected.set(0);
    clearInterval(this.heartbeat);
    await this.stream?.stop().catch(() => undefined);
    await this.session?.close(); // after the stream: no message arrives for a closed encoder
    await this.db?.end().catch(() => undefined);
    this.dbAlive = false;
  }
}
