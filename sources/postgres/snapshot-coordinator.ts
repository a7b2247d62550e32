// The Postgres source's snapshots: whether a run takes one (the snapshot mode against the slot and the state
// topic's record of the last finished snapshot), reading the tables at a slot's exported snapshot, and
// snapshots of one table requested while streaming goes on.
import type pg from 'pg';
import type { Logger } from 'pino';
import { TypeCatalog, type TableInfo } from './catalog.ts';
import type { PgoutputHandler } from './pgoutput-handler.ts';
import { tableSource } from './source-tables.ts';
import { createSlot, dropSlot, slotState, type ExportedSlot } from './slot.ts';
import { beginSnapshot, blockLayout, blockRanges, readChunks, readRangesInParallel } from './snapshot-reads.ts';
import type { SnapshotProgress } from '../source.ts';
import type { EmittedTable } from '../../emitter/table-registry.ts';
import type { StateStore } from '../../emitter/kafka/state-store.ts';
import type { ConnectorConfig } from '../../connector/src/config.ts';
import type { ConnectorMetrics } from '../../connector/src/metrics.ts';
import { TracelakeError } from '../../schemas/src/errors.ts';
import { formatLsn, parseLsn } from '../../schemas/src/lsn.ts';
import { fault } from '../../runtime/faults.ts';
import type { Gate } from '../../runtime/gate.ts';

export interface SnapshotPorts {
  log: Logger;
  metrics?: ConnectorMetrics;
  gate: Gate;
  /** the run's main connection */
  db: () => pg.Client;
  /** a new connection, named for pg_stat_activity */
  client: (applicationName: string) => pg.Client;
  handler: () => PgoutputHandler;
  state: () => StateStore;
  /** the source's status becomes SNAPSHOTTING */
  snapshotting: () => void;
}

export class SnapshotCoordinator {
  private readonly source: ConnectorConfig['source'];
  private readonly ports: SnapshotPorts;
  /** per table (schema.table): the last snapshot's progress */
  readonly progress = new Map<string, SnapshotProgress>();
  private requested: Promise<void> = Promise.resolve();

  constructor(source: ConnectorConfig['source'], ports: SnapshotPorts) {
    this.source = source;
    this.ports = ports;
  }

  /**
   * Takes the snapshot the mode and the offsets ask for. Returns false when the run ends with it
   * (initial_only), true when streaming follows.
   */
  async atStart(tables: TableInfo[]): Promise<boolean> {
    const { source } = this;
    const { log } = this.ports;
    const db = this.ports.db();
    const slotName = source.slot.name;
    const mode = source.snapshot.mode;
    const slot = await slotState(db, slotName);
    const done = await this.ports.state().read(slotName);
    if (mode === 'initial_only') {
      await this.snapshot(tables, { temporary: true });
      return false;
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
        log.info({ slot: slotName, streamFrom: formatLsn(slot.confirmedFlushLsn) }, 'keeping the slot of an unfinished snapshot and taking the snapshot again');
        await this.snapshot(tables, { temporary: true, completesFrom: slot.confirmedFlushLsn });
      } else {
        if (slot.exists) {
          log.info({ slot: slotName }, 'dropping the slot to take a new snapshot');
          await dropSlot(db, slotName);
        }
        await this.snapshot(tables, { temporary: false });
      }
    } else if (!slot.exists) {
      log.info({ slot: slotName }, 'creating replication slot (no snapshot)');
      await createSlot({ connectionString: source.url }, slotName, { exportSnapshot: false });
    }
    return true;
  }

  /**
   * Creates the slot (or, `temporary`, a throw-away one) with an exported snapshot, reads every table at it,
   * then records completion: the position from which the slot's stream completes the snapshot — its consistent
   * point, or `completesFrom` when an existing slot streams from an earlier one.
   */
  private async snapshot(tables: TableInfo[], opts: { temporary: boolean; completesFrom?: bigint }): Promise<void> {
    const { source } = this;
    this.ports.snapshotting();
    const slotName = opts.temporary ? `${source.slot.name}_snapshot_${process.pid}` : source.slot.name;
    const exported = await createSlot({ connectionString: source.url }, slotName, { exportSnapshot: true, temporary: opts.temporary });
    const started = Date.now();
    let rows: number;
    try {
      this.ports.handler().reset(0n);
      rows = await this.readTables(tables, exported, 'initial');
    } finally {
      await exported.close().catch(() => undefined);
    }
    await this.ports.state().write(source.slot.name, {
      snapshotLsn: formatLsn(opts.completesFrom ?? exported.consistentPoint), snapshotCompletedAt: new Date().toISOString(), tables: tables.map((t) => `${t.schema}.${t.table}`),
    });
    this.ports.log.info({ rows, ms: Date.now() - started, lsn: formatLsn(exported.consistentPoint) }, 'snapshot completed');
  }

  /**
   * Reads `tables` at an exported snapshot and sends every row as a read event positioned at the
   * snapshot's consistent point (the sink orders it against streamed changes by that position).
   * Returns the rows read.
   */
  private async readTables(tables: TableInfo[], exported: ExportedSlot, kind: SnapshotProgress['kind']): Promise<number> {
    const { source } = this;
    const { metrics, log, gate } = this.ports;
    const handler = this.ports.handler();
    const readers = Array.from({ length: source.snapshot.readers }, (_, i) => this.ports.client(`tracelake-snapshot-${i + 1}`));
    const reader = readers[0]!;
    const started = Date.now();
    const startedAt = new Date(started).toISOString();
    let seq = 0n;
    for (const t of tables) this.progress.set(`${t.schema}.${t.table}`, { rows: 0, state: 'PENDING', kind });
    metrics?.snapshotRunning.set(1);
    let remaining = tables.length;
    metrics?.snapshotTablesRemaining.set(remaining);
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
        this.progress.set(name, current);
        const keys = source.keyColumns[name] ?? t.primaryKey;
        const captured = await this.register(t, catalog);
        const src = { schema: t.schema, table: t.table, columns: t.columns.map((c) => c.name), keyColumns: keys };
        const layout = await blockLayout(reader, src);
        const estimate = layout.estimatedRows;
        const chunks = layout.splittable
          ? readRangesInParallel(readers, src, blockRanges(layout, source.snapshot.chunkRows))
          : readChunks(reader, src, source.snapshot.chunkRows);
        for await (const chunk of chunks) {
          if (gate.closed) await gate.wait();
          await handler.read(captured, chunk, { commitLsn: exported.consistentPoint, seq, commitTimeUs: BigInt(started) * 1000n });
          seq += BigInt(chunk.length);
          current.rows += chunk.length;
          metrics?.snapshotRows.inc({ table: name }, chunk.length);
          const secs = (Date.now() - started) / 1000;
          log.info({
            table: name, rows: current.rows, estimatedRows: estimate, percent: estimate > 0 ? Math.min(100, Math.round((current.rows / estimate) * 100)) : undefined,
            rowsPerSecond: secs > 0 ? Math.round(Number(seq) / secs) : undefined,
          }, 'snapshot progress');
          fault('snapshot-chunk');
        }
        current.state = 'DONE';
        current.finishedAt = new Date().toISOString();
        metrics?.snapshotTablesRemaining.set(--remaining);
      }
      await handler.flush();
      await Promise.all(readers.map((r) => r.query('COMMIT')));
    } catch (err) {
      if (current && current.state === 'RUNNING') Object.assign(current, { state: 'FAILED', error: (err as Error).message });
      throw err;
    } finally {
      metrics?.snapshotRunning.set(0);
      await Promise.all(readers.map((r) => r.end().catch(() => undefined)));
    }
    return Number(seq);
  }

  /** A captured table's topic and schemas, as its rows will be sent (the emitter registers each once). */
  private async register(t: TableInfo, catalog: TypeCatalog): Promise<EmittedTable> {
    return this.ports.handler().register(await tableSource(t, catalog, this.source));
  }

  /**
   * Re-reads one captured table while streaming goes on (like Debezium's execute-snapshot signal): a
   * temporary slot exports a snapshot, and the table's rows are sent as read events at its consistent
   * point, so the sink keeps whichever of a row's snapshot and streamed versions is newer. Queued behind
   * earlier requests; returns the request's progress.
   */
  request(t: TableInfo): SnapshotProgress {
    const table = `${t.schema}.${t.table}`;
    const progress: SnapshotProgress = { rows: 0, state: 'PENDING', kind: 'requested' };
    this.progress.set(table, progress);
    this.requested = this.requested.then(() => this.runRequested(t)).catch((err: unknown) => {
      const p = this.progress.get(table);
      if (p) Object.assign(p, { state: 'FAILED', error: (err as Error).message, finishedAt: new Date().toISOString() });
      this.ports.log.error({ table, err: (err as Error).message }, 'requested snapshot failed; request it again');
    });
    return progress;
  }

  private async runRequested(t: TableInfo): Promise<void> {
    const name = `${t.schema}.${t.table}`;
    const handler = this.ports.handler();
    const generation = handler.generation;
    this.ports.log.info({ table: name }, 'requested snapshot started');
    const exported = await createSlot({ connectionString: this.source.url }, `${this.source.slot.name}_rs_${process.pid}`, { exportSnapshot: true, temporary: true });
    try {
      const rows = await this.readTables([t], exported, 'requested');
      // a reconnect of the stream in between drops what was buffered: the snapshot is incomplete then
      if (handler.generation !== generation) throw new Error('the replication stream reconnected during the snapshot');
      this.ports.log.info({ table: name, rows, lsn: formatLsn(exported.consistentPoint) }, 'requested snapshot completed');
    } finally {
      await exported.close().catch(() => undefined);
    }
  }
}
