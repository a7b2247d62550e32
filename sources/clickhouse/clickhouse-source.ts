// The ClickHouse source (sources/source.ts): captures ReplacingMergeTree tables — Langfuse v3's traces,
// observations and scores, v4's events_full — by polling system.parts and system.mutations (table-poller.ts).
// A run connects, picks the tables (for Langfuse: by the generation it finds), declares them, then polls. Each
// poll ends in a commit whose position is the source's whole state (what is taken per table); once it is
// durable in Kafka it is written to the state topic, and a new run starts from there.
import type { Logger } from 'pino';
import { capturedTable, type CapturedTable } from './captured-table.ts';
import { clickhouseStateKey, type ClickHouseSourceConfig } from './clickhouse-config.ts';
import { describeStartFailure, isClickHouseLoss } from './clickhouse-errors.ts';
import { ClickHouseReader, type TableMeta } from './clickhouse-reader.ts';
import { langfuseCapture } from './langfuse-generation.ts';
import { buildClickHouseTable } from './record-decoder.ts';
import { tableIdentity } from './table-identity.ts';
import { TablePoller, type PollTarget, type TableState } from './table-poller.ts';
import type { ChangeSource, SnapshotProgress, SourceStatus, SourceTable } from '../source.ts';
import { openEmitterSession, type EmitterSession } from '../../emitter/emitter-session.ts';
import type { ConnectorConfig } from '../../connector/src/config.ts';
import type { ConnectorMetrics } from '../../connector/src/metrics.ts';
import { TracelakeError } from '../../schemas/src/errors.ts';
import type { Gate } from '../../runtime/gate.ts';
import { Pause } from '../../runtime/pause.ts';
import { ConflictError } from '../../runtime/supervisor.ts';

const RECORD_DECODER = new URL('./record-decoder.ts', import.meta.url).href;
export const CLICKHOUSE_CONNECTOR_NAME = 'tracelake-clickhouse';

/** The source's state in the state topic: per table (database.table), what is taken. */
export interface ClickHouseState {
  tables: Record<string, TableState>;
}

export class ClickHouseSource implements ChangeSource {
  private readonly cfg: ConnectorConfig;
  private readonly ch: ClickHouseSourceConfig;
  private readonly log: Logger;
  private readonly gate: Gate;
  private readonly metrics: ConnectorMetrics | undefined;
  private reader: ClickHouseReader | undefined;
  private session: EmitterSession<ClickHouseState, ClickHouseState> | undefined;
  private targets: PollTarget[] = [];
  private connectedOnce = false;
  private stopping = false;
  private readonly pause = new Pause();
  private snapshotRequests = new Set<string>();
  status: SourceStatus = 'STARTING';

  constructor(cfg: ConnectorConfig & { clickhouse: ClickHouseSourceConfig }, log: Logger, gate: Gate, metrics?: ConnectorMetrics) {
    this.cfg = cfg;
    this.ch = cfg.clickhouse;
    this.log = log.child({ source: 'clickhouse' });
    this.gate = gate;
    this.metrics = metrics;
  }

  get stateKey(): string {
    return clickhouseStateKey(this.cfg, this.ch);
  }

  tables(): SourceTable[] {
    return this.targets.map((t) => {
      const name = `${t.database}.${t.table}`;
      return { name, events: this.session?.emitter.tableEvents.get(name) ?? 0 };
    });
  }

  async run(): Promise<void> {
    this.status = 'STARTING';
    this.stopping = false;
    const ch = this.ch;
    this.reader = new ClickHouseReader({ url: ch.url, username: ch.username, password: ch.password, caFile: ch.caFile, requestTimeoutMs: ch.requestTimeoutMs });
    const reader = this.reader;
    const server = await reader.server().catch((err: unknown) => { throw describeStartFailure(err, ch.url, ch.username, ch.url.startsWith('https')); });
    this.connectedOnce = true;
    const tables = await this.chooseTables(reader, server.version);
    const metas = new Map((await reader.tables(ch.database)).map((m) => [m.name, m]));
    const captured: CapturedTable[] = [];
    for (const name of tables) captured.push(await this.describe(reader, metas.get(name)!));

    const session: EmitterSession<ClickHouseState, ClickHouseState> = (this.session = await openEmitterSession<ClickHouseState, ClickHouseState>(this.cfg, {
      source: { connector: CLICKHOUSE_CONNECTOR_NAME, db: ch.database }, decoder: RECORD_DECODER,
      tables: captured.map((t) => `${t.database}.${t.table}`),
      onDurable: (state): Promise<void> => this.session!.state.write(this.stateKey, state),
      onFailure: () => this.pause.wake(),
    }, this.log, this.metrics));
    const declared = await session.emitter.tables.declare(
      captured.map((t) => ({ schema: buildClickHouseTable(t.source), description: t.source })),
      session.deadLetterTables.length > 0 ? [session.deadLetterTopic] : [],
    );
    this.targets = captured.map((t, i) => ({ ...t, ref: declared[i]!.ref, columnsKey: null }));
    const emitter = session.emitter;
    emitter.reset();
    const poller = new TablePoller(reader, (job, rows, bytes) => emitter.submit({ payload: job }, rows, bytes), this.log, server.timezone);

    const stored = await session.state.read(this.stateKey);
    const state: ClickHouseState = { tables: { ...stored?.tables } };
    const firstPoll = new Set<string>();
    for (const t of this.targets) {
      const key = `${t.database}.${t.table}`;
      if (state.tables[key]) continue;
      if (ch.snapshot.mode === 'no_data') state.tables[key] = await poller.startingNow(t);
      else firstPoll.add(key);
    }
    this.log.info({ tables: this.targets.map((t) => t.table), resumed: stored !== undefined, snapshot: [...firstPoll] }, 'capturing ClickHouse tables');

    while (!this.stopping) {
      await this.gate.wait();
      if (this.stopping) break;
      this.status = firstPoll.size > 0 ? 'SNAPSHOTTING' : 'RUNNING';
      let newestUs: bigint | null = null;
      for (let i = 0; i < this.targets.length; i++) {
        const t = this.targets[i]!;
        const key = `${t.database}.${t.table}`;
        if (this.snapshotRequests.delete(key)) {
          state.tables[key] = { taken: {}, mutations: state.tables[key]?.mutations ?? [] };
          firstPoll.add(key);
        }
        const snapshot = firstPoll.has(key);
        const r = await poller.poll(t, state.tables[key] ?? { taken: {}, mutations: [] }, ch.insertSettleMs, snapshot, (x, at) => this.evolve(reader, x, at));
        this.targets[i] = r.target;
        emitter.throwIfFailed();
        state.tables[key] = r.state;
        firstPoll.delete(key);
        if (r.newestUs !== null && (newestUs === null || r.newestUs > newestUs)) newestUs = r.newestUs;
        this.metrics?.recordPoll(key, r);
      }
      await emitter.commit(structuredClone(state), newestUs);
      emitter.throwIfFailed();
      this.status = 'RUNNING';
      if (!this.stopping) await this.pause.for(ch.pollIntervalMs);
      emitter.throwIfFailed();
    }
    await emitter.flush();
  }

  /** The tables named, or Langfuse's by generation; every one must exist. */
  private async chooseTables(reader: ClickHouseReader, version: string): Promise<string[]> {
    const ch = this.ch;
    const activity = await reader.tableActivity(ch.database);
    let tables = ch.tables;
    if (tables.length === 0 && this.cfg.source.platform === 'langfuse') {
      const found = langfuseCapture(activity, Date.now());
      if (!found) {
        throw new TracelakeError(`database ${ch.database} on ClickHouse ${ch.url} has no Langfuse trace tables (events_full, or traces and observations)`, {
          code: 'TABLE_MISSING', remedy: 'check clickhouse.database (Langfuse: CLICKHOUSE_DB) and that Langfuse\'s migrations ran; or name clickhouse.tables',
        });
      }
      this.log.info({ generation: found.generation, server: version, tables: found.tables, notCaptured: found.skipped },
        `Langfuse ${found.generation} found in ClickHouse: capturing ${found.tables.join(', ')}`);
      tables = found.tables;
    }
    if (tables.length === 0) {
      throw new TracelakeError('no ClickHouse tables to capture', { code: 'CONFIG_INVALID', remedy: 'name clickhouse.tables, or set source.platform: langfuse' });
    }
    const missing = tables.filter((t) => !activity.has(t));
    if (missing.length > 0) {
      throw new TracelakeError(`table(s) ${missing.map((t) => `${ch.database}.${t}`).join(', ')} do not exist on ClickHouse ${ch.url}`, {
        code: 'TABLE_MISSING', remedy: 'check clickhouse.tables and clickhouse.database, and that the user may see the tables (SHOW TABLES)',
      });
    }
    return tables;
  }

  private async describe(reader: ClickHouseReader, meta: TableMeta): Promise<CapturedTable> {
    const identity = tableIdentity(`${this.ch.database}.${meta.name}`, meta.engine, meta.engineFull, meta.sortingKey);
    return this.build(meta.name, await reader.columns(this.ch.database, meta.name), identity);
  }

  private build(table: string, columns: Array<{ name: string; type: string }>, identity: CapturedTable['identity']): CapturedTable {
    const mapping = { decimalMode: this.cfg.source.decimalMode, unknownTypes: this.cfg.source.unknownTypes };
    return capturedTable(this.ch.database, table, columns, identity, mapping, this.ch.keyColumns[table]);
  }

  /**
   * Schema evolution: a column added (or dropped, or retyped) since the last poll makes a new table schema,
   * registered (a new schema version, BACKWARD compatible: every field is optional) before rows are read with it.
   */
  private async evolve(reader: ClickHouseReader, t: PollTarget, columnsKey: string | null): Promise<PollTarget> {
    if (columnsKey === null || columnsKey === t.columnsKey) return t;
    const columns = await reader.columns(t.database, t.table);
    if (JSON.stringify(columns) === JSON.stringify(t.columns)) return { ...t, columnsKey };
    const rebuilt = this.build(t.table, columns, t.identity);
    const registered = await this.session!.emitter.tables.register({ schema: buildClickHouseTable(rebuilt.source), description: rebuilt.source });
    const names = (cs: Array<{ name: string }>) => new Set(cs.map((c) => c.name));
    this.log.info({ table: `${t.database}.${t.table}`, added: columns.filter((c) => !names(t.columns).has(c.name)).map((c) => c.name),
      removed: t.columns.filter((c) => !names(columns).has(c.name)).map((c) => c.name) }, 'the table\'s columns changed: captured with a new schema version');
    return { ...rebuilt, ref: registered.ref, columnsKey };
  }

  requestSnapshot(table: string): SnapshotProgress {
    const t = this.targets.find((x) => `${x.database}.${x.table}` === table || x.table === table);
    if (!t) throw new TracelakeError(`table ${table} is not captured from ClickHouse`, { code: 'NOT_FOUND', remedy: `one of: ${this.targets.map((x) => `${x.database}.${x.table}`).join(', ')}` });
    if (this.status !== 'RUNNING') throw new ConflictError(`cannot snapshot ${table} while the source is ${this.status}`, 'wait until it runs (GET /status)');
    this.snapshotRequests.add(`${t.database}.${t.table}`);
    this.pause.wake();
    return { rows: 0, state: 'PENDING', kind: 'requested', startedAt: new Date().toISOString() };
  }

  async lost(err: unknown): Promise<string | null> {
    return !this.stopping && this.connectedOnce && isClickHouseLoss(err) ? 'CLICKHOUSE_CONNECTION_LOST' : null;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.pause.wake();
  }

  async close(): Promise<void> {
    await this.session?.close();
    this.session = undefined;
    await this.reader?.close().catch(() => undefined);
    this.reader = undefined;
  }
}
