// Writes one table's events into Delta: folds them per key, prepares the target table (created or evolved),
// runs the truncate and tombstone statements, then the MERGEs. A statement the warehouse refuses for a reason
// other than its availability is narrowed down by halving the rows (every MERGE is idempotent, so re-applying
// a half is safe); the rows it still refuses go to the dead-letter topic or stop the sink, as configured.
import type { Logger } from 'pino';
import type { SinkConfig } from '../config.ts';
import type { DeadLetterQueue } from '../dead-letter-queue.ts';
import type { ColumnDef, TableEvent } from '../decode/table-event.ts';
import { foldBatch, type FoldedRow } from '../fold/fold-batch.ts';
import type { SinkMetrics } from '../metrics.ts';
import { planMerges, planTombstones, planTruncate, type TablePlanInput } from '../plan/merge-plan.ts';
import { planScopedTruncate } from '../plan/scoped-truncate.ts';
import type { TableManager } from '../tables/table-manager.ts';
import type { Warehouse } from '../warehouse/databricks-client.ts';
import { isTableMissing, isTransient } from '../warehouse/warehouse-errors.ts';
import type { WarehouseRetry } from '../warehouse/warehouse-retry.ts';
import { TracelakeError } from '../../../schemas/src/errors.ts';

export interface TableProgress {
  rowsMerged: number;
  lastMergeAt?: string;
  lastMergeMs?: number;
}

export interface TableWriterPorts {
  cfg: Pick<SinkConfig, 'batching' | 'errors'>;
  warehouse: Warehouse;
  tables: TableManager;
  retry: WarehouseRetry;
  deadLetters: DeadLetterQueue | undefined;
  log: Logger;
  metrics?: SinkMetrics;
}

export class TableWriter {
  private readonly p: TableWriterPorts;
  /** per table (schema.table): what was merged */
  readonly progress = new Map<string, TableProgress>();

  constructor(ports: TableWriterPorts) {
    this.p = ports;
  }

  /** MERGEs one table's events; a target dropped behind the sink's back is created again, once. Returns the rows merged. */
  async write(events: TableEvent[]): Promise<number> {
    try {
      return await this.writeOnce(events);
    } catch (err) {
      if (!isTableMissing(err)) throw err;
      const { schema, table } = events[0]!;
      this.p.metrics?.errors.inc({ code: 'TABLE_DROPPED' });
      this.p.log.warn({ table: `${schema}.${table}`, err: (err as Error).message },
        'the Delta table was dropped outside tracelake: creating it again; rows merged before the drop are gone — re-snapshot the table (connector: POST /tables/<schema.table>/snapshot) to restore them');
      this.p.tables.forget(schema, table);
      return this.writeOnce(events);
    }
  }

  private async writeOnce(events: TableEvent[]): Promise<number> {
    const { retry, warehouse, cfg, metrics } = this.p;
    const first = events[0]!;
    const columns = new Map<string, ColumnDef>();
    for (const e of events) for (const c of e.columns) if (!columns.has(c.field)) columns.set(c.field, c);
    const keyFields = events.find((e) => e.keyFields.length > 0)?.keyFields ?? [];
    const target = await retry.run(`prepare ${first.schema}.${first.table}`,
      () => this.p.tables.ensure(first.schema, first.table, [...columns.values()], keyFields));
    const plan = { target: target.layout.target, tombstones: target.layout.tombstones, staged: target.layout.staged, columns: target.columns, deleteMode: target.deleteMode,
      maxStatementBytes: cfg.batching.maxStatementBytes, maxStatementRows: cfg.batching.maxStatementRows };
    const folded = foldBatch(events);
    const setup = [
      ...(folded.truncateAt ? [planTruncate(plan, folded.truncateAt)] : []),
      ...folded.scoped.map((s) => planScopedTruncate(plan, s, s.scope)),
      ...planTombstones(plan, folded.rows),
    ];
    for (const sql of setup) {
      await retry.run(`prepare ${target.layout.target}`, () => warehouse.query(sql));
    }
    const started = Date.now();
    const rejected = await this.apply(plan, folded.rows, target.layout.target);
    if (rejected.length > 0) await this.reject(rejected);
    const merged = folded.rows.length - rejected.length;
    const name = `${first.schema}.${first.table}`;
    const now = Date.now();
    const p = this.progress.get(name) ?? { rowsMerged: 0 };
    p.rowsMerged += merged;
    p.lastMergeAt = new Date(now).toISOString();
    p.lastMergeMs = now - started;
    this.progress.set(name, p);
    if (metrics) {
      metrics.rowsMerged.inc({ table: name }, merged);
      metrics.mergeSeconds.observe({ table: name }, (now - started) / 1000);
      for (const r of folded.rows) if (r.events.at(-1)?.op !== 'r') metrics.freshness.observe(Math.max(0, now - Number(r.sourceTsMs)) / 1000);
    }
    return merged;
  }

  /** MERGEs `rows`, halving them around statements the warehouse refuses. Returns the refused rows with its error. */
  private async apply(plan: TablePlanInput, rows: FoldedRow[], target: string): Promise<Array<{ row: FoldedRow; err: Error }>> {
    if (rows.length === 0) return [];
    try {
      for (const sql of planMerges(plan, rows)) {
        await this.p.retry.run(`merge into ${target}`, () => this.p.warehouse.query(sql));
      }
      return [];
    } catch (err) {
      if (isTransient(err) || isTableMissing(err)) throw err;
      if (rows.length === 1) return [{ row: rows[0]!, err: err as Error }];
      const half = Math.ceil(rows.length / 2);
      return [...await this.apply(plan, rows.slice(0, half), target), ...await this.apply(plan, rows.slice(half), target)];
    }
  }

  /** Rows the warehouse refused: to the dead-letter topic (tolerance all), or stop naming the record. */
  private async reject(rejected: Array<{ row: FoldedRow; err: Error }>): Promise<void> {
    const first = rejected[0]!;
    const ev = first.row.events.at(-1)!;
    const dlq = this.p.deadLetters;
    if (this.p.cfg.errors.tolerance === 'none' || !dlq) {
      throw new TracelakeError(`the warehouse rejected the change at ${ev.topic}[${ev.partition}]@${ev.offset}: ${first.err.message}`, {
        code: 'POISON_RECORD', cause: first.err,
        remedy: 'fix the target table (constraint, type) or the value at the source; errors.tolerance: all routes such rows to the dead-letter topic',
      });
    }
    for (const { row, err } of rejected) {
      for (const e of row.events) await dlq.send(e, 'TASK_PUT', err as Error & { code?: string });
    }
  }
}
