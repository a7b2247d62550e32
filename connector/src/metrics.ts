// The connector's Prometheus metrics (names in docs/operations.md), after Debezium's streaming and
// snapshot metrics and postgres_exporter's slot metrics. Counters live here, across restarts of the
// pipeline inside one process; slot figures are read from Postgres when scraped.
import { Counter, Gauge, Summary, type Registry } from 'prom-client';

export interface SlotReading {
  lagBytes: number;
  walStatus: string | null;
  safeWalSizeBytes: number | null;
  active: boolean;
}

export class ConnectorMetrics {
  readonly events: Counter<'op' | 'table'>;
  readonly transactions: Counter;
  readonly behindSource: Summary;
  readonly lastEventAt: Gauge;
  readonly connected: Gauge;
  readonly batchesSent: Counter;
  readonly messagesSent: Counter;
  readonly inFlight: Gauge;
  readonly backpressureWaits: Counter;
  readonly snapshotRows: Counter<'table'>;
  readonly snapshotRunning: Gauge;
  readonly snapshotTablesRemaining: Gauge;
  readonly errors: Counter<'code'>;
  readonly durableLsn: Gauge;
  readonly sourceRowsRead: Counter<'table'>;
  readonly sourceLastPollRowsRead: Gauge<'table'>;
  readonly sourceTableRows: Gauge<'table'>;
  readonly sourcePolls: Counter<'table'>;
  readonly reconciliationDeletes: Counter<'table'>;
  readonly untraceableMutations: Counter<'table'>;
  readonly exportFiles: Counter<'table' | 'outcome'>;
  readonly exportBytes: Counter<'table'>;
  readonly exportRows: Counter<'table'>;
  readonly exportPendingUnits: Gauge;
  /** labelled children per table and op: incremented per event, so the label lookup is done once */
  private readonly eventChildren = new Map<string, Map<string, { inc(): void }>>();
  private readonly slotLag: Gauge;
  private readonly slotSafeWal: Gauge;
  private readonly slotActive: Gauge;
  private readonly slotWalStatus: Gauge<'status'>;

  /** Sets the slot gauges from one reading (before each scrape). */
  setSlot(r: SlotReading | undefined): void {
    if (!r) return;
    this.slotLag.set(r.lagBytes);
    this.slotSafeWal.set(r.safeWalSizeBytes ?? 0);
    this.slotActive.set(r.active ? 1 : 0);
    for (const st of ['reserved', 'extended', 'unreserved', 'lost']) this.slotWalStatus.set({ status: st }, r.walStatus === st ? 1 : 0);
  }

  /** One poll of a polling source's table (the ClickHouse source): what it read against the table's size. */
  recordPoll(table: string, poll: { rowsRead: number; tableRows: number; maskedDeletes: number; untraceable: number }): void {
    this.sourcePolls.inc({ table });
    this.sourceRowsRead.inc({ table }, poll.rowsRead);
    this.sourceLastPollRowsRead.set({ table }, poll.rowsRead);
    this.sourceTableRows.set({ table }, poll.tableRows);
    if (poll.maskedDeletes > 0) this.reconciliationDeletes.inc({ table }, poll.maskedDeletes);
    if (poll.untraceable > 0) this.untraceableMutations.inc({ table }, poll.untraceable);
  }

  /** One change event captured (called per event: no label hashing after the first of a table and op). */
  countEvent(table: string, op: string): void {
    let byOp = this.eventChildren.get(table);
    if (!byOp) this.eventChildren.set(table, (byOp = new Map()));
    let child = byOp.get(op);
    if (!child) byOp.set(op, (child = this.events.labels({ op, table })));
    child.inc();
  }

  constructor(registry: Registry) {
    const registers = [registry];
    const p = 'tracelake_connector_';
    this.events = new Counter({ name: `${p}events_total`, help: 'change events captured, by op (r snapshot, c, u, d, t) and table', labelNames: ['op', 'table'], registers });
    this.transactions = new Counter({ name: `${p}transactions_total`, help: 'source transactions seen', registers });
    this.behindSource = new Summary({
      name: `${p}milliseconds_behind_source`, help: 'commit time in Postgres → events handed to Kafka (Debezium MilliSecondsBehindSource); quantiles over the last minute',
      percentiles: [0.5, 0.95, 0.99], maxAgeSeconds: 60, ageBuckets: 6, registers,
    });
    this.lastEventAt = new Gauge({ name: `${p}last_event_timestamp_seconds`, help: 'when the last change event was captured (Unix time)', registers });
    this.connected = new Gauge({ name: `${p}connected`, help: '1 while the replication stream is connected', registers });
    this.batchesSent = new Counter({ name: `${p}kafka_batches_total`, help: 'batches acknowledged by Kafka', registers });
    this.messagesSent = new Counter({ name: `${p}kafka_messages_total`, help: 'messages acknowledged by Kafka (events and tombstones)', registers });
    this.inFlight = new Gauge({ name: `${p}kafka_batches_in_flight`, help: 'batches sent and not yet acknowledged (2 = backpressure)', registers });
    this.backpressureWaits = new Counter({ name: `${p}backpressure_waits_total`, help: 'times decoding waited for Kafka (batches in flight at the limit)', registers });
    this.snapshotRows = new Counter({ name: `${p}snapshot_rows_total`, help: 'rows read by snapshots, by table', labelNames: ['table'], registers });
    this.snapshotRunning = new Gauge({ name: `${p}snapshot_running`, help: '1 while a snapshot (initial or requested) runs', registers });
    this.snapshotTablesRemaining = new Gauge({ name: `${p}snapshot_tables_remaining`, help: 'tables the running snapshot has still to read', registers });
    this.errors = new Counter({ name: `${p}errors_total`, help: 'failures by error code (retried ones included)', labelNames: ['code'], registers });
    this.durableLsn = new Gauge({ name: `${p}confirmed_lsn`, help: 'last LSN confirmed to the slot (everything before it is in Kafka)', registers });
    this.sourcePolls = new Counter({ name: `${p}source_polls_total`, help: 'polls of a polling source (ClickHouse), by table', labelNames: ['table'], registers });
    this.sourceRowsRead = new Counter({ name: `${p}source_rows_read_total`, help: 'rows the source database read for the polls (its own query statistics), by table', labelNames: ['table'], registers });
    this.sourceLastPollRowsRead = new Gauge({ name: `${p}source_last_poll_rows_read`, help: 'rows the source database read for the last poll, by table', labelNames: ['table'], registers });
    this.sourceTableRows = new Gauge({ name: `${p}source_table_rows`, help: 'rows in the table\'s active parts at the last poll (compare with rows read per poll)', labelNames: ['table'], registers });
    this.reconciliationDeletes = new Counter({ name: `${p}reconciliation_deletes_total`, help: 'rows found deleted by a lightweight DELETE (no version left behind) and sent as deletes, by table', labelNames: ['table'], registers });
    this.untraceableMutations = new Counter({ name: `${p}untraceable_mutations_total`, help: 'DELETE mutations whose predicate could not be applied to the mirror (only the rows they masked and that were still readable were deleted), by table', labelNames: ['table'], registers });
    this.exportFiles = new Counter({ name: `${p}export_files_total`, help: 'export files read by the object-storage source, by table and outcome (taken, rejected: dead-lettered)', labelNames: ['table', 'outcome'], registers });
    this.exportBytes = new Counter({ name: `${p}export_bytes_total`, help: 'bytes of export files read (as stored), by table', labelNames: ['table'], registers });
    this.exportRows = new Counter({ name: `${p}export_rows_total`, help: 'rows read from export files, by table', labelNames: ['table'], registers });
    this.exportPendingUnits = new Gauge({ name: `${p}export_pending_units`, help: 'export runs (Langfuse manifests) or files (LangSmith) listed and not yet taken, at the last listing', registers });

    this.slotLag = new Gauge({ name: `${p}slot_lag_bytes`, help: 'WAL the slot holds back: pg_current_wal_lsn() - confirmed_flush_lsn', registers });
    this.slotSafeWal = new Gauge({ name: `${p}slot_safe_wal_size_bytes`, help: 'WAL that can still be written before the slot is invalidated (0 when unlimited)', registers });
    this.slotActive = new Gauge({ name: `${p}slot_active`, help: '1 when a process streams the slot (this one, or the peer a standby waits for)', registers });
    this.slotWalStatus = new Gauge({
      name: `${p}slot_wal_status`, help: 'pg_replication_slots.wal_status: 1 for the current one (reserved, extended, unreserved, lost)', labelNames: ['status'], registers,
    });
  }
}
