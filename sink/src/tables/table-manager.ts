// Knows the Delta mirror tables: creates them on first sight (with their tombstone table in hard-delete
// mode), adds columns that new source schema versions bring, and refuses type changes Delta cannot take.
import type { Warehouse } from '../warehouse/databricks-client.ts';
import type { ColumnDef } from '../decode/table-event.ts';
import { deltaType } from '../delta/column-types.ts';
import { addColumns, createTable, createTombstones, type TableLayout } from '../plan/ddl.ts';
import { META_COLUMNS, type DeleteMode, type PlanColumn } from '../plan/merge-plan.ts';
import { sqlIdent } from '../sql/literals.ts';
import { TracelakeError } from '../../../schemas/src/errors.ts';
import { withRetries } from '../../../runtime/retry.ts';
import { isCreateRace } from '../warehouse/warehouse-errors.ts';
import type { SinkConfig } from '../config.ts';

export interface TargetTable {
  source: string;
  layout: TableLayout;
  deleteMode: DeleteMode;
  /** data columns in Delta order, by Avro field */
  columns: PlanColumn[];
}

export class TableManager {
  private readonly wh: Warehouse;
  private readonly cfg: SinkConfig;
  private readonly tables = new Map<string, TargetTable>();
  /** target table → the source table it mirrors (two sources must never share one) */
  private readonly owners = new Map<string, string>();
  /** tables in the target schema when the sink started (lower case) */
  private existing = new Set<string>();
  /** the ensure() running for a source, if any */
  private readonly inFlight = new Map<string, Promise<unknown>>();

  constructor(wh: Warehouse, cfg: SinkConfig) {
    this.wh = wh;
    this.cfg = cfg;
  }

  qualifiedSchema(): string {
    const { catalog, schema } = this.cfg.warehouse;
    return catalog ? `${sqlIdent(catalog)}.${sqlIdent(schema)}` : sqlIdent(schema);
  }

  async init(): Promise<void> {
    await this.wh.query(`CREATE SCHEMA IF NOT EXISTS ${this.qualifiedSchema()}`);
    const rows = await this.wh.query<{ tableName: string }>(`SHOW TABLES IN ${this.qualifiedSchema()}`);
    this.existing = new Set(rows.map((r) => r.tableName.toLowerCase()));
  }

  /**
   * The target of a source table, made to hold every column in `columns`. Calls for one source run one after
   * the other (a table being prepared ahead of its first event is waited for, not created twice).
   */
  async ensure(schema: string, table: string, columns: ColumnDef[], keyFields: string[]): Promise<TargetTable> {
    const source = `${schema}.${table}`;
    const previous = this.inFlight.get(source) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(() => this.ensureNow(schema, table, columns, keyFields));
    const settled = run.catch(() => undefined);
    this.inFlight.set(source, settled);
    void settled.then(() => {
      if (this.inFlight.get(source) === settled) this.inFlight.delete(source);
    });
    return run;
  }

  /** Whether the target of a source table is known already, or was in the target schema when the sink started. */
  has(schema: string, table: string): boolean {
    const source = `${schema}.${table}`;
    return this.tables.has(source) || this.existing.has(this.targetName(source, table).toLowerCase());
  }

  private targetName(source: string, table: string): string {
    return this.cfg.tables[source]?.name ?? `${this.cfg.warehouse.tablePrefix}${table}`;
  }

  private async ensureNow(schema: string, table: string, columns: ColumnDef[], keyFields: string[]): Promise<TargetTable> {
    const source = `${schema}.${table}`;
    const settings = this.cfg.tables[source];
    const wanted: PlanColumn[] = columns.map((c) => ({
      field: c.field, name: c.name, isKey: keyFields.includes(c.field), type: deltaType(c.avro, `${source}.${c.name}`),
    }));
    let t = this.tables.get(source);
    if (!t) {
      const name = this.targetName(source, table);
      const layout: TableLayout = {
        target: `${this.qualifiedSchema()}.${sqlIdent(name)}`,
        tombstones: `${this.qualifiedSchema()}.${sqlIdent(`${name}__tombstones`)}`,
        staged: `${this.qualifiedSchema()}.${sqlIdent(`${name}__staged`)}`,
        clusterBy: settings?.clusterBy ?? [],
        properties: { ...this.cfg.tableProperties, ...settings?.tableProperties },
      };
      const owner = this.owners.get(layout.target);
      if (owner && owner !== source) {
        throw new TracelakeError(`${source} and ${owner} would both be mirrored into ${layout.target}`, {
          code: 'DUPLICATE_TABLE_MAPPING', remedy: `give one of them its own Delta name: tables["${source}"].name (or a tablePrefix per sink)`,
        });
      }
      this.owners.set(layout.target, source);
      const deleteMode = settings?.deleteMode ?? this.cfg.deleteMode;
      if (keyFields.length === 0) {
        throw new TracelakeError(`events of ${source} carry no key`, { code: 'MISSING_PRIMARY_KEY', remedy: 'the connector must key the topic by the primary key' });
      }
      // tables found at start are not created again (a restarted sink only reads their columns)
      if (!this.existing.has(name.toLowerCase())) await this.create(createTable(layout, wanted));
      if (deleteMode === 'hard' && !this.existing.has(`${name}__tombstones`.toLowerCase())) await this.create(createTombstones(layout, wanted));
      const existing = await this.describe(layout.target);
      t = { source, layout, deleteMode, columns: [] };
      for (const c of existing) {
        const w = wanted.find((x) => x.name.toLowerCase() === c.name.toLowerCase());
        if (w) t.columns.push(w);
      }
      this.tables.set(source, t);
      this.checkTypes(t, wanted, existing);
    }
    for (const w of wanted) {
      const known = t.columns.find((c) => c.field === w.field);
      if (known && known.type.sql !== w.type.sql) this.checkTypes(t, [w], [{ name: known.name, type: known.type.sql }]);
    }
    const missing = wanted.filter((w) => !t.columns.some((c) => c.field === w.field));
    if (missing.length > 0) {
      const existing = await this.describe(t.layout.target);
      this.checkTypes(t, wanted, existing);
      const toAdd = missing.filter((m) => !existing.some((e) => e.name.toLowerCase() === m.name.toLowerCase()));
      if (toAdd.length > 0) await this.wh.query(addColumns(t.layout, toAdd));
      t.columns.push(...missing);
    }
    return t;
  }

  /**
   * CREATE TABLE IF NOT EXISTS, tried again while another writer is creating the same table (a second replica
   * preparing it at the same moment): Delta then reports the protocol changed, the location not empty yet, or
   * the table existing. Bounded (~8 s): a location that stays unusable fails with Delta's own message.
   */
  private create(sql: string): Promise<unknown> {
    return withRetries(() => this.wh.query(sql), { attempts: 5, baseDelayMs: 500, maxDelayMs: 4000, retriable: isCreateRace });
  }

  /** Forgets what is known about a source's target (it was dropped behind our back): the next ensure() creates it again. */
  forget(schema: string, table: string): void {
    this.tables.delete(`${schema}.${table}`);
    this.existing.clear(); // what was listed at start is no longer to be trusted
  }

  private async describe(target: string): Promise<Array<{ name: string; type: string }>> {
    const rows = await this.wh.query<{ col_name: string; data_type: string }>(`DESCRIBE TABLE ${target}`);
    const out: Array<{ name: string; type: string }> = [];
    for (const r of rows) {
      if (!r.col_name || r.col_name.startsWith('#')) break; // partition / clustering sections follow
      if (!META_COLUMNS.some(([m]) => m === r.col_name)) out.push({ name: r.col_name, type: r.data_type });
    }
    return out;
  }

  private checkTypes(t: TargetTable, wanted: PlanColumn[], existing: Array<{ name: string; type: string }>): void {
    for (const w of wanted) {
      const e = existing.find((x) => x.name.toLowerCase() === w.name.toLowerCase());
      if (e && normalize(e.type) !== normalize(w.type.sql)) {
        throw new TracelakeError(`column ${t.source}.${w.name} changed type: Delta has ${e.type}, the source now sends ${w.type.sql}`, {
          code: 'INCOMPATIBLE_COLUMN_TYPE',
          remedy: `Delta cannot change a column's type in place; rename or recreate ${t.layout.target} (and re-snapshot the table), or revert the source change`,
        });
      }
    }
  }
}

const normalize = (t: string) => t.toLowerCase().replace(/\s+/g, '');
