// Prepares Delta tables before their first event: for each change topic, the schemas the connector registered
// for it (it registers every captured table's at start) give the source table's exact name, its columns and
// its key, so the target table is created while the snapshot is still being read, not in the path of the
// first MERGE. Tables the target schema already holds are left alone (their first event reads their columns). One table at a time, beside the MERGEs; a table that cannot be prepared is left to its first
// event, which creates it as before.
import type { Logger } from 'pino';
import type { SchemaRegistry, WriterSchema } from '../../../schemas/src/registry.ts';
import { columnsOf, keyFieldsOf, type ColumnDef } from '../decode/table-event.ts';
import type { TableManager } from './table-manager.ts';
import { withStatementPriority } from '../warehouse/session-pool.ts';

export interface DeclaredTable {
  schema: string;
  table: string;
  columns: ColumnDef[];
  keyFields: string[];
}

/**
 * Pure: the source table a topic's registered value and key schemas describe, or undefined when the value
 * schema does not name it (written by an older connector, or by Debezium) or is not a change-event envelope.
 */
export function declaredTable(value: WriterSchema, key: WriterSchema): DeclaredTable | undefined {
  const v = value.schema as { 'tracelake.schema'?: unknown; 'tracelake.table'?: unknown };
  if (typeof v['tracelake.schema'] !== 'string' || typeof v['tracelake.table'] !== 'string') return undefined;
  try {
    return { schema: v['tracelake.schema'], table: v['tracelake.table'], columns: columnsOf(value.schema), keyFields: keyFieldsOf(key.schema) };
  } catch {
    return undefined;
  }
}

export class TablePreparer {
  private readonly registry: SchemaRegistry;
  private readonly tables: TableManager;
  private readonly log: Logger;
  private readonly seen = new Set<string>();
  private queue: Promise<void> = Promise.resolve();

  /** Resolves once no table is being prepared (a failed or stopped run ends first, so no statement is cut off). */
  idle(): Promise<void> {
    return this.queue;
  }

  constructor(registry: SchemaRegistry, tables: TableManager, log: Logger) {
    this.registry = registry;
    this.tables = tables;
    this.log = log;
  }

  /**
   * Queues the topics not seen before, in the order given; `prepared` is told each table prepared (e.g. to
   * create the views that read it).
   */
  prepare(topics: string[], opts: {
    stopped: () => boolean;
    prepared: (t: DeclaredTable) => Promise<void>;
    priority: (topic: string) => number;
    /** resolves when the topic's table may be prepared (e.g. once the warehouse is not busy merging) */
    turn: (topic: string) => Promise<void>;
  }): Promise<void> {
    const fresh = topics.filter((t) => !this.seen.has(t));
    for (const t of fresh) this.seen.add(t);
    this.queue = this.queue.then(async () => {
      for (const topic of fresh) {
        await opts.turn(topic);
        if (opts.stopped()) return;
        const declared = await withStatementPriority(opts.priority(topic), () => this.prepareOne(topic));
        if (declared) await opts.prepared(declared);
      }
    });
    return this.queue;
  }

  private async prepareOne(topic: string): Promise<DeclaredTable | undefined> {
    const started = Date.now();
    try {
      const [value, key] = await Promise.all([this.registry.latest(`${topic}-value`), this.registry.latest(`${topic}-key`)]);
      const declared = value && key ? declaredTable(value, key) : undefined;
      if (!declared || this.tables.has(declared.schema, declared.table)) return undefined;
      await this.tables.ensure(declared.schema, declared.table, declared.columns, declared.keyFields);
      this.log.debug({ table: `${declared.schema}.${declared.table}`, ms: Date.now() - started }, 'table prepared before its first event');
      return declared;
    } catch (err) {
      this.log.info({ topic, err: (err as Error).message }, 'table not prepared ahead; its first event creates it');
      return undefined;
    }
  }
}
