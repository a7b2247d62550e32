// Creates a platform's curated views once their base tables exist in Delta, and recreates them when an
// optional table (e.g. span_costs, written later by Phoenix) appears.
import type { Logger } from 'pino';
import type { Warehouse } from '../warehouse/databricks-client.ts';
import { curatedViews, type ViewSet } from './view-set.ts';
import { sqlIdent } from '../sql/literals.ts';
import { createHash } from 'node:crypto';

const RECHECK_MS = 10_000;

export class ViewManager {
  private readonly wh: Warehouse;
  private readonly schema: string;
  private readonly prefix: string;
  /** the platform's view sets, most specific first: the first whose tables (and marker column) exist is used */
  private readonly sets: ViewSet[];
  private set: ViewSet | undefined;
  private readonly log: Logger;
  private createdWith: string | null = null;
  private checkedAt = 0;
  private running: Promise<void> = Promise.resolve();

  constructor(wh: Warehouse, qualifiedSchema: string, tablePrefix: string, sets: ViewSet | ViewSet[], log: Logger) {
    this.wh = wh;
    this.schema = qualifiedSchema;
    this.prefix = tablePrefix;
    this.sets = Array.isArray(sets) ? sets : [sets];
    this.log = log;
  }

  /** Whether a view of the set reads the table of this (unprefixed) name. */
  reads(table: string): boolean {
    return this.sets.some((set) => set.required.includes(table) || set.optional.includes(table));
  }

  /**
   * Checks at most every 10 s (or when `force`) whether the views need (re)creating. Calls run one after the
   * other (the sink asks after batches and after preparing tables; two CREATE OR REPLACE of one view may clash).
   */
  ensure(force = false): Promise<void> {
    const run = this.running.then(() => this.ensureNow(force));
    this.running = run.catch(() => undefined);
    return run;
  }

  private async ensureNow(force: boolean): Promise<void> {
    if (!force && Date.now() - this.checkedAt < RECHECK_MS) return;
    this.checkedAt = Date.now();
    const rows = await this.wh.query<{ tableName: string }>(`SHOW TABLES IN ${this.schema}`);
    const existing = new Set(rows.map((r) => r.tableName.toLowerCase()));
    const set = await this.choose(existing);
    if (!set) return;
    if (this.set !== set) this.createdWith = null;
    this.set = set;
    const present = new Set([...set.required, ...set.optional].filter((n) => existing.has(`${this.prefix}${n}`.toLowerCase())));
    const qualify = (name: string) => `${this.schema}.${sqlIdent(set.required.includes(name) || set.optional.includes(name) ? `${this.prefix}${name}` : name)}`;
    const views = Object.entries(curatedViews(set, qualify, present));
    // the views' definitions, hashed: kept as a property of each view, so a restarted sink leaves views that are
    // already what it would create (one SHOW TBLPROPERTIES instead of a CREATE per view)
    const version = createHash('sha256').update(JSON.stringify(views)).digest('hex').slice(0, 16);
    if (version === this.createdWith) return;
    if (this.createdWith === null && views.every(([name]) => existing.has(name.toLowerCase()))) {
      const stored = await this.wh.query<{ value?: string }>(`SHOW TBLPROPERTIES ${this.schema}.${sqlIdent(views[0]![0])} ('tracelake.views')`).catch(() => []);
      if (stored[0]?.value === version) {
        this.createdWith = version;
        return;
      }
    }
    for (const [name, select] of views) {
      await this.wh.query(`CREATE OR REPLACE VIEW ${this.schema}.${sqlIdent(name)} TBLPROPERTIES ('tracelake.views' = '${version}') AS ${select}`);
    }
    this.createdWith = version;
    const signature = [...present].sort().join(',');
    this.log.info({ schema: this.schema, tables: signature }, 'curated views created');
  }

  /** The first set whose required tables exist (and whose marker column, if it names one). */
  private async choose(existing: Set<string>): Promise<ViewSet | undefined> {
    for (const set of this.sets) {
      if (!set.required.every((n) => existing.has(`${this.prefix}${n}`.toLowerCase()))) continue;
      if (!set.marker) return set;
      const cols = await this.wh.query<{ col_name: string }>(`DESCRIBE TABLE ${this.schema}.${sqlIdent(`${this.prefix}${set.marker.table}`)}`).catch(() => []);
      if (cols.some((c) => c.col_name === set.marker!.column)) return set;
    }
    return undefined;
  }
}
